"""A local site whose `/gate/...` pages answer only once the test opens the gate.

A run fetching a gated page is held mid-fetch, holding the writer slot, for as long as
the test wants: the test that a second run waits needs no timing guesses.
"""

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.site import article

TEXT = [
    "The {name} report describes how the committee reviewed the annual budget in detail "
    "and asked the ministry for a revised plan before the summer recess.",
    "Members of the committee from {name} said the revised plan should include the cost "
    "of new rail links and the maintenance of existing regional lines.",
    "A spokesperson for the ministry said the department would answer every question of "
    "the committee in writing within the next four weeks.",
]


def page(name: str) -> str:
    """An article page whose text is specific to `name`."""
    return article(
        f"Committee report {name}", "Test Desk", "2022-02-01",
        [p.format(name=name) for p in TEXT],
    )


@dataclass
class GatedSite:
    """The running site: base URL, the gate, and the paths requested so far."""

    base: str
    gate: threading.Event = field(default_factory=threading.Event)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


@contextlib.contextmanager
def serve_gated_site(max_hold: float = 120.0) -> Iterator[GatedSite]:
    """Serve `/page/<name>` at once and `/gate/<name>` once `site.gate` is set."""
    site = GatedSite(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            if self.path == "/robots.txt":
                self._send(200, "text/plain", "User-agent: *\nAllow: /\n")
            elif self.path.startswith("/gate/"):
                site.gate.wait(max_hold)
                self._send(200, "text/html; charset=utf-8", page(self.path.rsplit("/", 1)[-1]))
            elif self.path.startswith("/page/"):
                self._send(200, "text/html; charset=utf-8", page(self.path.rsplit("/", 1)[-1]))
            else:
                self._send(404, "text/html", "not found")

        def _send(self, status: int, ctype: str, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.gate.set()
        server.shutdown()
        server.server_close()
