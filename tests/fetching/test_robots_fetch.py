"""robots.txt through the real server: denial, Crawl-delay, caching, failures."""

from __future__ import annotations

import uuid

import pytest

from fetching import Outcome
from tests.fetching.conftest import SLACK, Harness, gaps
from tests.fetching.server import TestServer, redirect_to, robots

pytestmark = pytest.mark.anyio


def host(prefix: str) -> str:
    """A host name no other test uses, so its robots.txt is its own."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}.test"


def with_robots(server: TestServer, name: str, text: str | None, status: int = 200) -> str:
    """Serve a robots.txt for host `name`; returns the name."""
    server.route("/robots.txt", robots(text, status), host=name)
    return name


async def test_robots_disallow_denies_only_matching_paths(harness: Harness) -> None:
    name = with_robots(
        harness.server,
        host("deny"),
        "User-agent: *\nDisallow: /\n\nUser-agent: recite\nDisallow: /status/\nAllow: /ok\n",
    )
    denied, allowed = await harness.fetch_many(
        [harness.server.url("/status/404", host=name), harness.server.url("/ok", host=name)]
    )
    assert denied.outcome is Outcome.ROBOTS_DENIED
    assert denied.status_code is None
    assert denied.error is not None and "recite" in denied.error
    assert len(denied.attempts) == 1
    assert allowed.outcome is Outcome.OK
    # Denied page never requested; robots.txt fetched once for both URLs.
    paths = [e.path for e in harness.server.entries(host=name)]
    assert paths.count("/robots.txt") == 1
    assert "/status/404" not in paths


async def test_robots_group_for_other_agent_does_not_apply(harness: Harness) -> None:
    name = with_robots(harness.server, host("other"), "User-agent: googlebot\nDisallow: /\n")
    result = await harness.fetch(harness.server.url("/ok", host=name))
    assert result.outcome is Outcome.OK


async def test_robots_ignored_when_config_says_so(harness: Harness) -> None:
    name = with_robots(harness.server, host("ignored"), "User-agent: *\nDisallow: /\n")
    result = await harness.fetch(harness.server.url("/ok", host=name), respect_robots=False)
    assert result.outcome is Outcome.OK
    assert not harness.server.entries(host=name, prefix="/robots.txt")


async def test_robots_crawl_delay_spaces_requests(harness: Harness) -> None:
    name = with_robots(harness.server, host("delay"), "User-agent: *\nCrawl-delay: 0.4\n")
    urls = [harness.server.url(f"/ok/{i}", host=name) for i in range(3)]
    results = await harness.fetch_many(urls, per_host_delay=0.0)
    assert all(r.outcome is Outcome.OK for r in results)
    starts = sorted(e.arrived for e in harness.server.entries(host=name))
    assert len(starts) == 4  # robots.txt + 3 pages
    assert min(gaps(starts)) >= 0.4 - SLACK


async def test_robots_4xx_allows_everything(harness: Harness) -> None:
    name = with_robots(harness.server, host("gone"), None, status=404)
    result = await harness.fetch(harness.server.url("/ok", host=name))
    assert result.outcome is Outcome.OK


async def test_robots_5xx_disallows_everything_for_the_run(harness: Harness) -> None:
    name = with_robots(harness.server, host("broken"), "oops", status=503)
    result = await harness.fetch(harness.server.url("/ok", host=name))
    assert result.outcome is Outcome.ROBOTS_DENIED
    assert result.error is not None and "503" in result.error
    assert not harness.server.entries(host=name, prefix="/ok")


async def test_robots_redirect_is_followed(harness: Harness) -> None:
    source = host("moved")
    target = with_robots(harness.server, host("moved-to"), "User-agent: *\nDisallow: /ok\n")
    moved = redirect_to(harness.server.url("/robots.txt", host=target), 301)
    harness.server.route("/robots.txt", moved, host=source)
    result = await harness.fetch(harness.server.url("/ok", host=source))
    assert result.outcome is Outcome.ROBOTS_DENIED


async def test_robots_redirect_to_private_address_is_not_followed(harness: Harness) -> None:
    source = host("sneaky")
    harness.resolver.answers["lan.test"] = ["192.168.1.1"]
    sneaky = redirect_to(harness.server.url("/robots.txt", host="lan.test"))
    harness.server.route("/robots.txt", sneaky, host=source)
    result = await harness.fetch(harness.server.url("/ok", host=source))
    # The guard refuses the hop; robots.txt counts as unavailable (allow), and the
    # private host is never contacted.
    assert result.outcome is Outcome.OK
    assert not harness.server.entries(host="lan.test")


async def test_robots_is_capped_in_size(harness: Harness) -> None:
    # 600 KB of comments, then a rule past the 500 KiB parse limit (RFC 9309 §2.5).
    text = "User-agent: *\n" + ("#" + "x" * 99 + "\n") * 6000 + "Disallow: /\n"
    name = with_robots(harness.server, host("huge"), text)
    result = await harness.fetch(harness.server.url("/ok", host=name))
    assert result.outcome is Outcome.OK


# The served hostile set of issue 17 (pattern, BOM, 2 MB, 100,000 rules, 5xx, trickle,
# HTML, Crawl-delay 3) is tests/fetching/test_hostile_robots.py.
