"""A misbehaving HTTP/1.1 test server on 127.0.0.1, written on raw sockets.

`http.server` cannot send a garbage status line, lie about Content-Length,
reset a connection mid-body or drip bytes, so each scenario here writes the
bytes itself. Every request is logged with its arrival time (time.monotonic),
Host and path, so politeness tests can check spacing from the server's side.
Routes are looked up by (host, path) first, then by path prefix.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

HTML = (
    b"<!DOCTYPE html><html><head><title>Test page</title></head>"
    b"<body><article><h1>Hello</h1><p>Some text that an extractor would keep.</p>"
    b"</article></body></html>"
)


@dataclass
class Request:
    """A parsed request line and headers."""

    method: str
    target: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    host: str
    entry: LogEntry | None = None


@dataclass
class LogEntry:
    """One request as the server saw it."""

    host: str
    path: str
    arrived: float
    headers: dict[str, str]
    responded: float | None = None


Handler = Callable[[Request, socket.socket, "TestServer"], None]


def response(
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    reason: str = "X",
    content_length: bool = True,
) -> bytes:
    """Bytes of a complete HTTP/1.1 response that closes the connection."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    all_headers = {"Connection": "close", **(headers or {})}
    if content_length and "Content-Length" not in all_headers:
        all_headers["Content-Length"] = str(len(body))
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def html(body: bytes = HTML, status: int = 200, **headers: str) -> bytes:
    """A text/html response (headers given with underscores for dashes)."""
    fixed = {name.replace("_", "-"): value for name, value in headers.items()}
    return response(status, body, {"Content-Type": "text/html; charset=utf-8", **fixed})


class TestServer:
    """Threaded raw-socket server with a request log and per-key counters."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.log: list[LogEntry] = []
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.routes: dict[str, Handler] = {}
        self.host_routes: dict[tuple[str, str], Handler] = {}
        self.inflight: Counter[str] = Counter()
        self.max_inflight: Counter[str] = Counter()
        self._server: socketserver.ThreadingTCPServer | None = None
        self.port = 0
        self.tls: ssl.SSLContext | None = None
        self.server_names: list[str | None] = []

    def start(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1 in a background thread."""
        outer = self

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer._serve(self.request)

        class _Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True
            request_queue_size = 128

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop accepting connections."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def url(self, path: str, host: str = "site.test") -> str:
        """Absolute URL of `path` on this server under the name `host`."""
        return f"http://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler, host: str | None = None) -> None:
        """Serve `path` (a prefix) with `handler`, optionally only for one Host."""
        if host is None:
            self.routes[path] = handler
        else:
            self.host_routes[(host, path)] = handler

    def bump(self, key: str) -> int:
        """Increment and return the counter `key` (for first-fail-then-succeed routes)."""
        with self.lock:
            self.counts[key] += 1
            return self.counts[key]

    def entries(self, host: str | None = None, prefix: str = "") -> list[LogEntry]:
        """Logged requests, optionally for one host and a path prefix."""
        with self.lock:
            return [
                e for e in self.log
                if (host is None or e.host == host) and e.path.startswith(prefix)
            ]

    def use_tls(self, certfile: str, keyfile: str) -> None:
        """Serve HTTPS with this certificate, recording the SNI name of each handshake."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)

        def remember(conn: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
            self.server_names.append(name)

        context.sni_callback = remember
        self.tls = context

    def _serve(self, sock: socket.socket) -> None:
        """Read one request, log it, run its handler, close."""
        sock.settimeout(10)
        if self.tls is not None:
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client refused our certificate
        request = _read_request(sock)
        if request is None:
            return
        entry = LogEntry(request.host, request.path, time.monotonic(), request.headers)
        request.entry = entry
        with self.lock:
            self.log.append(entry)
        handler = self._find(request)
        try:
            handler(request, sock, self)
        except OSError:
            pass  # the client went away (too_large, timeout): expected in these tests
        finally:
            entry.responded = entry.responded or time.monotonic()
            with contextlib.suppress(OSError):
                sock.close()

    def _find(self, request: Request) -> Handler:
        """Handler for the request: host-specific, then longest path prefix."""
        exact = self.host_routes.get((request.host, request.path))
        if exact is not None:
            return exact
        matches = [p for p in self.routes if request.path.startswith(p)]
        if not matches:
            return lambda req, s, srv: s.sendall(html(b"not found", status=404))
        return self.routes[max(matches, key=len)]


def _read_request(sock: socket.socket) -> Request | None:
    """Parse the request head, or None if the client sent nothing usable."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    request_line, *header_lines = head.split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    parts = urlsplit(target)
    host = headers.get("host", "").rsplit(":", 1)[0]
    return Request(method, target, parts.path, parse_qs(parts.query), headers, host)


# --- scenarios -------------------------------------------------------------------------


def _key(request: Request) -> str:
    """The last path segment: tests use it to keep counters apart."""
    return request.path.rstrip("/").rsplit("/", 1)[-1]


def ok(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """A plain HTML page."""
    sock.sendall(html())


def status(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/status/<code>: that status with a small HTML body."""
    sock.sendall(html(b"<p>status</p>", status=int(_key(req))))


def flaky(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/flaky/<key>: 500 the first time, then 200."""
    if srv.bump(req.path) == 1:
        sock.sendall(html(b"<p>oops</p>", status=500))
    else:
        sock.sendall(html())


def retry_after(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/retry-after/<value>/<key>: 503 with Retry-After <value> once, then 200."""
    value = req.path.split("/")[2].replace("_", " ")
    if srv.bump(req.path) == 1:
        sock.sendall(html(b"<p>busy</p>", status=503, Retry_After=value))
    else:
        sock.sendall(html())


def too_many(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/429/<key>: always 429 with Retry-After: 0."""
    srv.bump(req.path)
    sock.sendall(html(b"<p>slow down</p>", status=429, Retry_After="0"))


def redirect(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/redirect?to=<url>&code=<3xx>: redirect to `to`."""
    code = int(req.query.get("code", ["302"])[0])
    sock.sendall(response(code, b"", {"Location": req.query["to"][0]}))


def loop(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/loop/a ↔ /loop/b forever."""
    other = "/loop/b" if req.path == "/loop/a" else "/loop/a"
    sock.sendall(response(302, b"", {"Location": other}))


def chain(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/chain/<n>: redirect to /chain/<n-1>; /chain/0 is a page (relative Location)."""
    n = int(_key(req))
    if n == 0:
        sock.sendall(html())
    else:
        sock.sendall(response(301, b"", {"Location": str(n - 1)}))


def endless(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """An HTML body that never ends (no Content-Length, close-delimited)."""
    sock.sendall(response(200, b"", {"Content-Type": "text/html"}, content_length=False))
    block = b"<p>" + b"x" * 65530 + b"</p>\n"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        sock.sendall(block)


def drip(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Headers at once, then one byte every 50 ms of a 10,000-byte body."""
    sock.sendall(response(200, b"", {"Content-Type": "text/html", "Content-Length": "10000"}))
    for _ in range(10000):
        sock.sendall(b"x")
        time.sleep(0.05)


def reset(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Half a body, then a TCP reset (SO_LINGER 0)."""
    sock.sendall(
        response(200, b"", {"Content-Type": "text/html", "Content-Length": "100000"})
    )
    sock.sendall(b"<html>" + b"x" * 5000)
    time.sleep(0.05)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def short_body(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Content-Length 1000, but only 500 bytes before a clean close."""
    sock.sendall(response(200, b"", {"Content-Type": "text/html", "Content-Length": "1000"}))
    sock.sendall(b"<html>" + b"y" * 494)
    sock.shutdown(socket.SHUT_WR)


_BOMB: list[bytes] = []


def gzip_bomb(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """~50 KB of gzip that inflates to 50 MB of HTML."""
    if not _BOMB:
        _BOMB.append(gzip.compress(b"<p>" + b" " * (50 * 1024 * 1024) + b"</p>", 9))
    sock.sendall(
        response(200, _BOMB[0], {"Content-Type": "text/html", "Content-Encoding": "gzip"})
    )


def gzipped(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """A normal gzip-encoded page."""
    sock.sendall(
        response(200, gzip.compress(HTML), {
            "Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip",
        })
    )


def binary(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Random bytes labelled text/html."""
    sock.sendall(response(200, os.urandom(4096), {"Content-Type": "text/html"}))


def png_as_html(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """A PNG image labelled text/html."""
    body = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)
    sock.sendall(response(200, body, {"Content-Type": "text/html"}))


def pdf(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """A PDF document."""
    sock.sendall(response(200, b"%PDF-1.7\n" + b"0" * 1000, {"Content-Type": "application/pdf"}))


GERMAN = (
    "<html><body><p>Größere Übungen für schöne Grüße aus Köln: Bär, Öl, Mühle, "
    "Straße, Fußgänger, Äpfel.</p></body></html>"
)
RUSSIAN = (
    "<html><body><p>Переговоры о европейской безопасности продолжились в Женеве. "
    "Стороны обсудили размещение войск, договоры о ракетах и гарантии для "
    "соседних государств. Дипломаты назвали встречу откровенной и деловой.</p>"
    "</body></html>"
)


def charset_page(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/charset/<case>: bodies whose labels are wrong, missing or partly broken."""
    case = _key(req)
    if case == "wrong-header":  # says UTF-8, is windows-1252
        body, ctype = GERMAN.encode("cp1252"), "text/html; charset=utf-8"
    elif case == "stale-latin1":  # says ISO-8859-1, is UTF-8
        body, ctype = GERMAN.encode("utf-8"), "text/html; charset=iso-8859-1"
    elif case == "meta":  # no header charset; <meta> names windows-1251
        meta = '<html><head><meta charset="windows-1251"></head>'
        body, ctype = (meta + RUSSIAN[6:]).encode("cp1251"), "text/html"
    elif case == "http-equiv":
        meta = (
            '<html><head><meta http-equiv="Content-Type" '
            'content="text/html; charset=koi8-r"></head>'
        )
        body, ctype = (meta + RUSSIAN[6:]).encode("koi8_r"), "text/html"
    elif case == "detect":  # nothing declared at all
        body, ctype = RUSSIAN.encode("cp1251"), "text/html"
    elif case == "invalid-utf8":  # UTF-8 with two stray bytes
        raw = GERMAN.encode("utf-8")
        body, ctype = raw[:40] + b"\xff\xfe" + raw[40:], "text/html; charset=utf-8"
    elif case == "unknown-label":
        body, ctype = GERMAN.encode("utf-8"), "text/html; charset=klingon-9"
    else:
        raise ValueError(case)
    sock.sendall(response(200, body, {"Content-Type": ctype}))


def empty(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """200 with an empty body."""
    sock.sendall(response(200, b"", {"Content-Type": "text/html"}))


def huge_headers(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """200 with 300 KB of headers."""
    headers = {f"X-Filler-{i}": "z" * 1000 for i in range(300)}
    sock.sendall(response(200, HTML, {"Content-Type": "text/html", **headers}))


def garbage(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Not HTTP at all."""
    sock.sendall(b"HELLO THERE, THIS IS NOT HTTP\r\n\r\n")


def close_at_once(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Close without sending anything."""
    sock.shutdown(socket.SHUT_RDWR)


def no_type(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/no-type/<html|text>: no Content-Type header at all."""
    body = HTML if _key(req) == "html" else b"Just some plain words, no markup at all."
    sock.sendall(response(200, body, {}))


def etag(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """ETag "v1"; 304 when If-None-Match matches."""
    if req.headers.get("if-none-match") == '"v1"':
        sock.sendall(response(304, b"", {"ETag": '"v1"'}, content_length=False))
    else:
        sock.sendall(html(ETag='"v1"'))


LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


def last_modified(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Last-Modified; 304 when If-Modified-Since is that date."""
    if req.headers.get("if-modified-since") == LAST_MODIFIED:
        sock.sendall(response(304, b"", {}, content_length=False))
    else:
        sock.sendall(html(Last_Modified=LAST_MODIFIED))


def canonical(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """A page naming another URL as canonical."""
    body = HTML.replace(
        b"<title>", b'<link rel="canonical" href="https://example.org/story"><title>'
    )
    sock.sendall(html(body))


def slow(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/slow/<ms>/...: answer after <ms> milliseconds; tracks in-flight counts."""
    ms = int(req.path.split("/")[2])
    with srv.lock:
        srv.inflight[req.host] += 1
        srv.max_inflight[req.host] = max(srv.max_inflight[req.host], srv.inflight[req.host])
    time.sleep(ms / 1000)
    with srv.lock:
        # Count down before answering: the client frees its slot only after reading,
        # so this interval lies inside the client's hold on the slot.
        srv.inflight[req.host] -= 1
        if req.entry is not None:
            req.entry.responded = time.monotonic()
    sock.sendall(html())


def redirect_to(location: str, code: int = 302) -> Handler:
    """A handler that always redirects to `location`."""

    def handler(req: Request, sock: socket.socket, srv: TestServer) -> None:
        sock.sendall(response(code, b"", {"Location": location}))

    return handler


def bad_chunk(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Chunked encoding with a chunk size that is not hexadecimal."""
    head = response(200, b"", {"Content-Type": "text/html", "Transfer-Encoding": "chunked"},
                    content_length=False)
    sock.sendall(head + b"5\r\n<html\r\nZZZ\r\nnot a chunk\r\n")


def odd_status(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """A three-digit status no RFC defines."""
    sock.sendall(html(status=999))


def fake_gzip(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Content-Encoding: gzip on a body that is plain HTML."""
    sock.sendall(response(200, HTML, {"Content-Type": "text/html", "Content-Encoding": "gzip"}))


def silent(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """Accept the request and never answer (until the client gives up)."""
    sock.settimeout(5)
    with contextlib.suppress(OSError):
        sock.recv(1)


def chunked_ok(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """A well-formed chunked page."""
    head = response(200, b"", {"Content-Type": "text/html", "Transfer-Encoding": "chunked"},
                    content_length=False)
    half = len(HTML) // 2
    parts = [HTML[:half], HTML[half:]]
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    sock.sendall(head + body)


def robots(text: str | None, status_code: int = 200) -> Handler:
    """A robots.txt handler returning `text` (or just a status)."""

    def handler(req: Request, sock: socket.socket, srv: TestServer) -> None:
        body = (text or "").encode()
        sock.sendall(response(status_code, body, {"Content-Type": "text/plain"}))

    return handler


DEFAULT_ROUTES: dict[str, Handler] = {
    "/ok": ok,
    "/status/": status,
    "/flaky/": flaky,
    "/retry-after/": retry_after,
    "/429/": too_many,
    "/redirect": redirect,
    "/loop/": loop,
    "/chain/": chain,
    "/endless": endless,
    "/drip": drip,
    "/reset": reset,
    "/short-body": short_body,
    "/gzip-bomb": gzip_bomb,
    "/gzipped": gzipped,
    "/binary": binary,
    "/png-as-html": png_as_html,
    "/pdf": pdf,
    "/charset/": charset_page,
    "/empty": empty,
    "/huge-headers": huge_headers,
    "/garbage": garbage,
    "/close": close_at_once,
    "/no-type/": no_type,
    "/etag": etag,
    "/last-modified": last_modified,
    "/canonical": canonical,
    "/slow/": slow,
    "/bad-chunk": bad_chunk,
    "/odd-status": odd_status,
    "/fake-gzip": fake_gzip,
    "/silent": silent,
    "/chunked": chunked_ok,
    "/robots.txt": robots(None, 404),
}
