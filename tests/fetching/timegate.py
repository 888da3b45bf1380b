"""A local web archive that speaks Memento (RFC 7089) the way the Wayback Machine does.

``GET /web/<original>`` is the TimeGate: 302 to the capture nearest the request's
Accept-Datetime (the latest without one), with ``Vary: accept-datetime`` and a Link
to the original and the TimeMap; 404 for an original it holds no capture of.
``GET /web/<ts>id_/<original>`` is a memento's original bytes, ``/web/<ts>/<original>``
the same page with the archive's banner, both with Memento-Datetime. A timestamp the
archive does not hold redirects to the nearest capture in the same form, as Wayback
does. ``GET /tg200/<original>`` is a 200-style TimeGate: the memento itself.
Memento URIs use the Host the request came with, so the archive works under
127.0.0.1:PORT and under a fake DNS name alike.
"""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from tests.fetching.server import Request, TestServer, html, response, robots

STORY = "http://example.com/story"
NO_DATETIME = "http://example.com/no-datetime"  # mementos without Memento-Datetime
GONE_MEMENTO = "http://example.com/gone-memento"  # the memento answers 404
BROKEN_MEMENTO = "http://example.com/broken-memento"  # the memento answers 500
BIG = "http://example.com/big"  # a 20 KB capture
NO_LOCATION = "http://example.com/no-location"  # the TimeGate's 302 lacks Location
ELSEWHERE = "http://example.com/elsewhere"  # the TimeGate points at intranet.test
MOVED = "http://example.com/moved"  # the named capture redirects to another one
NOT_ARCHIVED = "http://example.com/never-archived"

BANNER = b'<div id="wm-banner">Wayback Machine banner</div>'


def _page(title: str) -> bytes:
    """An archived HTML page whose text names its capture."""
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body><article>"
        f"<h1>{title}</h1><p>The text of the page as it was archived: {title}.</p>"
        "</article></body></html>"
    ).encode()


CAPTURES: dict[str, dict[str, bytes]] = {
    STORY: {
        "20100101000000": _page("story in 2010"),
        "20130615120000": _page("story in 2013"),
        "20200301080000": _page("story in 2020"),
    },
    NO_DATETIME: {"20130615120000": _page("no datetime")},
    GONE_MEMENTO: {"20130615120000": _page("gone")},
    BROKEN_MEMENTO: {"20130615120000": _page("broken")},
    BIG: {"20130615120000": _page("big " + "x" * 20_000)},
    NO_LOCATION: {"20130615120000": _page("no location")},
    ELSEWHERE: {"20130615120000": _page("elsewhere")},
    MOVED: {"20130615120000": _page("moved"), "20130616000000": _page("moved, later")},
}
# For MOVED the TimeGate names a capture the archive lost; its id_ URI redirects.
_NAMED = {MOVED: "20130615000000"}
_MEMENTO = re.compile(r"^(?P<ts>\d{14})(?P<flag>id_)?/(?P<original>.+)$", re.DOTALL)


def capture_datetime(timestamp: str) -> datetime:
    """A 14-digit capture timestamp as UTC."""
    return datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _nearest(original: str, when: datetime | None) -> str:
    """The timestamp of the capture of `original` nearest `when` (the latest if None)."""
    stamps = sorted(CAPTURES[original])
    if when is None:
        return stamps[-1]
    return min(stamps, key=lambda ts: abs((capture_datetime(ts) - when).total_seconds()))


def _accept_datetime(req: Request) -> datetime | None:
    """The request's Accept-Datetime (RFC 7089 §2.1.1), or None."""
    value = req.headers.get("accept-datetime")
    if not value:
        return None
    return parsedate_to_datetime(value).astimezone(UTC)


def _base(req: Request) -> str:
    """This archive's origin as the client named it."""
    return f"http://{req.headers['host']}"


def _links(req: Request, original: str) -> str:
    """The Link header of TimeGate answers (RFC 7089 §2.2)."""
    timemap = f"{_base(req)}/timemap/link/{original}"
    return (
        f'<{original}>; rel="original", '
        f'<{timemap}>; rel="timemap"; type="application/link-format"'
    )


def archive(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/web/...: the TimeGate or a memento, depending on the path."""
    rest = req.target[len("/web/"):]
    match = _MEMENTO.match(rest)
    if match is None:
        _timegate(req, sock, rest)
    else:
        _memento(req, sock, match["original"], match["ts"], match["flag"] or "")


def _timegate(req: Request, sock: socket.socket, original: str) -> None:
    """302-style datetime negotiation (RFC 7089 §4.2.1)."""
    if original not in CAPTURES:
        sock.sendall(html(b"<p>not archived</p>", status=404))
        return
    headers = {"Vary": "accept-datetime", "Link": _links(req, original)}
    if original != NO_LOCATION:
        timestamp = _NAMED.get(original) or _nearest(original, _accept_datetime(req))
        host = f"intranet.test:{req.headers['host'].rsplit(':', 1)[1]}"
        base = f"http://{host}" if original == ELSEWHERE else _base(req)
        headers["Location"] = f"{base}/web/{timestamp}/{original}"
    sock.sendall(response(302, b"", headers))


def _memento(req: Request, sock: socket.socket, original: str, timestamp: str, flag: str) -> None:
    """A memento: original bytes for id_, the page with a banner otherwise."""
    captures = CAPTURES.get(original, {})
    if timestamp not in captures:
        if not captures:
            sock.sendall(html(b"<p>not archived</p>", status=404))
            return
        nearest = _nearest(original, capture_datetime(timestamp))
        location = f"{_base(req)}/web/{nearest}{flag}/{original}"
        sock.sendall(response(302, b"", {"Location": location}))
        return
    if original == GONE_MEMENTO:
        sock.sendall(html(b"<p>capture lost</p>", status=404))
        return
    if original == BROKEN_MEMENTO:
        sock.sendall(html(b"<p>archive error</p>", status=500))
        return
    body = captures[timestamp]
    if not flag:
        body = body.replace(b"<body>", b"<body>" + BANNER)
    headers = {"Link": f'<{original}>; rel="original"'}
    if original != NO_DATETIME:
        headers["Memento-Datetime"] = format_datetime(capture_datetime(timestamp), usegmt=True)
    sock.sendall(_html(body, headers))


def timegate_200(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/tg200/<original>: 200-style negotiation, the memento itself (RFC 7089 §4.2.2)."""
    original = req.target[len("/tg200/"):]
    if original not in CAPTURES:
        sock.sendall(html(b"<p>not archived</p>", status=404))
        return
    timestamp = _nearest(original, _accept_datetime(req))
    headers = {
        "Vary": "accept-datetime",
        "Link": _links(req, original),
        "Content-Location": f"/web/{timestamp}id_/{original}",
        "Memento-Datetime": format_datetime(capture_datetime(timestamp), usegmt=True),
    }
    body = CAPTURES[original][timestamp]
    sock.sendall(_html(body, headers))


def plain_200(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """/plain200/<original>: a 200 page that is not a memento (no Memento-Datetime)."""
    sock.sendall(html(_page("the archive's own page")))


def _html(body: bytes, headers: dict[str, str]) -> bytes:
    """A 200 text/html response with `headers`."""
    return response(200, body, {"Content-Type": "text/html; charset=utf-8", **headers})


def make_archive() -> TestServer:
    """A started TestServer serving the archive; the caller stops it."""
    srv = TestServer()
    srv.route("/web/", archive)
    srv.route("/tg200/", timegate_200)
    srv.route("/plain200/", plain_200)
    srv.route("/robots.txt", robots(None, 404))
    srv.start()
    return srv
