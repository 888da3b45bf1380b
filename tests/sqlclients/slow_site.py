"""A page that does not answer until released: it keeps a run busy until a test kills it."""

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.site import BORRELL, article

PAGE = article("Slow news", "Anna Berger", "2022-01-15", [p.replace("Europe", "Asia") for p in BORRELL])


@dataclass
class SlowSite:
    """The running server: its base URL, the paths requested, and the release switch."""

    base: str = ""
    requests: list[str] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    requested: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        """Absolute URL of a path on the server."""
        return self.base + path


def _handler(site: SlowSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            if self.path == "/robots.txt":
                self._send(404, "not found")
                return
            site.requested.set()
            site.released.wait(timeout=120)  # hold the request until released
            self._send(200, PAGE)

        def _send(self, status: int, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serve_slow_site() -> Iterator[SlowSite]:
    """Serve slow pages on a free 127.0.0.1 port for the duration of the block."""
    site = SlowSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.released.set()
        server.shutdown()
        server.server_close()
