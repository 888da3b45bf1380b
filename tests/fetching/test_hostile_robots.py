"""The served hostile robots.txt set of issue 17, one case per file, on a real server.

Each case serves one hostile robots.txt on its own host beside a plain host, and fetches
both hosts' pages with one Fetcher. Each case checks, from the server's access log:
the run completes (every URL has an outcome), the plain host's pages are fetched and,
where the hostile host is slow (a trickle, a Crawl-delay), before it is done, and the
hostile host's rules are obeyed on the wire (exactly its allowed pages were requested,
and its robots.txt once).
"""

from __future__ import annotations

import socket
import time
import uuid
from dataclasses import dataclass

import pytest

from fetching import Outcome
from tests.fetching.conftest import Harness, gaps
from tests.fetching.server import Handler, Request, TestServer, response, robots

pytestmark = pytest.mark.anyio

CONNECT_SLACK = 0.25
LONG = "/ok/" + "a" * 3000 + "b"  # the hostile pattern's worst case: many a's, no match


def trickle(req: Request, sock: socket.socket, srv: TestServer) -> None:
    """A robots.txt that never ends: a comment byte every 50 ms until the client leaves."""
    sock.sendall(response(200, b"", {"Content-Type": "text/plain", "Content-Length": "1000000000"}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sock.sendall(b"#")
        time.sleep(0.05)


@dataclass(frozen=True)
class Case:
    """One hostile robots.txt: how it is served, which paths it allows and denies."""

    handler: Handler
    allowed: tuple[str, ...]
    denied: tuple[str, ...]
    # The hostile host stays busy for seconds: the plain host must be done before it.
    slow: bool = False
    # What a denied page ends as (a robots.txt cut by the time cap is a timeout).
    denied_as: Outcome = Outcome.ROBOTS_DENIED


def _text(text: str) -> Handler:
    return robots(text)


CASES = {
    "exponential-pattern": Case(
        _text("User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*a*a*a*a$\n"),
        allowed=(LONG,), denied=("/ok/" + "a" * 40,),
    ),
    "bom": Case(_text("\ufeffUser-agent: *\nDisallow: /\n"), allowed=(), denied=("/ok",)),
    # RFC 9309 §2.5: the first 500 KiB are parsed; the rule past 2 MB is not read.
    "2-mb": Case(
        _text("User-agent: *\nDisallow: /early\n" + ("#" + "x" * 99 + "\n") * 20_000
              + "Disallow: /\n"),
        allowed=("/ok",), denied=("/early",),
    ),
    "100000-rules": Case(
        _text("User-agent: *\n" + "".join(f"Disallow: /r{i}/\n" for i in range(100_000))),
        allowed=("/ok",), denied=("/r5/x",),
    ),
    # RFC 9309 §2.3.1.4: a server error means "unreachable": nothing is fetched.
    "5xx": Case(robots("oops", 503), allowed=(), denied=("/ok", "/ok/2")),
    # Cut by the total-time cap: unreachable, nothing is fetched.
    "trickle": Case(trickle, allowed=(), denied=("/ok",), slow=True, denied_as=Outcome.TIMEOUT),
    "html": Case(
        _text("<html><body><h1>Welcome</h1><p>Disallow: nothing here</p></body></html>"),
        allowed=("/ok",), denied=(),
    ),
    # One page after robots.txt: one gap of 3 s, the plain host fetched meanwhile.
    "crawl-delay-3": Case(_text("User-agent: *\nCrawl-delay: 3\n"), allowed=("/ok",), denied=(),
                          slow=True),
}


@pytest.mark.parametrize("kind", list(CASES))
async def test_hostile_robots_file(harness: Harness, kind: str) -> None:
    case = CASES[kind]
    server = harness.server
    hostile, plain = (f"{name}-{uuid.uuid4().hex[:8]}.test" for name in (kind, "plain"))
    server.route("/robots.txt", case.handler, host=hostile)
    server.route("/robots.txt", robots("User-agent: *\nDisallow: /private\n"), host=plain)
    hostile_urls = [server.url(p, host=hostile) for p in case.allowed + case.denied]
    plain_urls = [server.url(f"/ok/{i}", host=plain) for i in range(3)]

    results = await harness.fetch_many(hostile_urls + plain_urls)

    # The run completed: one outcome per URL, the hostile host's as its rules say.
    want = [Outcome.OK] * len(case.allowed) + [case.denied_as] * len(case.denied)
    assert [r.outcome for r in results] == want + [Outcome.OK] * len(plain_urls), [
        r.error for r in results
    ]
    # Obeyed on the wire: robots.txt once, then exactly the allowed pages.
    asked = [e.path for e in server.entries(host=hostile)]
    assert asked.count("/robots.txt") == 1
    assert sorted(p for p in asked if p != "/robots.txt") == sorted(case.allowed)
    # The plain host was fetched, and not made to wait for the hostile one.
    plain_log = server.entries(host=plain, prefix="/ok/")
    assert len(plain_log) == len(plain_urls)
    if case.slow:
        # A request still being answered (the trickle's) is busy until now.
        busy_until = max(e.responded or time.monotonic() for e in server.entries(host=hostile))
        assert max(e.arrived for e in plain_log) < busy_until
    if kind == "crawl-delay-3":
        # Counted from the client's start of the robots.txt request; the server logs its
        # arrival after accepting a new connection, up to ~0.1 s later on a loaded
        # machine (seen here). Ignoring the Crawl-delay would leave a gap near 0.
        assert min(gaps(e.arrived for e in server.entries(host=hostile))) >= 3 - CONNECT_SLACK
