"""Fixtures for the fetching tests: the local server, a fake DNS, a loopback network.

The address guard stays ON in these tests. Test host names (`*.test`) resolve,
through `FakeResolver`, to public-looking addresses; `LoopbackBackend` then
routes every connection to 127.0.0.1, the way a real network would route the
public address to a real server. If the guard let a private answer through,
the connection would succeed and the test would see it.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpcore
import pytest

from fetching import FetchConfig, Fetcher, FetchRequest, FetchResult, make_client
from fetching.errors import DNSError
from fetching.guard import IPAddress
from fetching.streams import AsyncioBackend
from tests.fetching.server import DEFAULT_ROUTES, TestServer

PUBLIC_IP = "93.184.216.34"
# Two request starts are stamped by the client; the server logs arrivals a little
# later, by a latency that varies by a few milliseconds between requests.
SLACK = 0.03


def gaps(times: Iterable[float]) -> list[float]:
    """Differences between successive sorted times."""
    ordered = sorted(times)
    return [b - a for a, b in itertools.pairwise(ordered)]

# Small limits keep the whole suite fast.
TEST_CONFIG = FetchConfig(
    user_agent="recite/0.1 (+tests)",
    concurrency=8,
    per_host_concurrency=2,
    per_host_delay=0.0,
    connect_timeout=2.0,
    read_timeout=2.0,
    total_timeout=3.0,
    max_bytes=1024 * 1024,
    max_redirects=5,
    max_attempts=3,
    backoff_base=0.01,
    backoff_max=0.05,
    retry_after_cap=2.0,
    allowed_ports=None,
)


class FakeResolver:
    """DNS for tests: fixed answers per name, a public address for other `.test` names."""

    def __init__(self, answers: dict[str, Sequence[str] | list[Sequence[str]]] | None = None):
        self.answers: dict[str, Any] = dict(answers or {})
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Answer from the table; a list of lists answers differently on each call."""
        self.calls.append(host)
        answer = self.answers.get(host)
        if answer is None:
            if not host.endswith(".test") or host.startswith("nxdomain"):
                raise DNSError(f"cannot resolve {host!r}: NXDOMAIN (fake)")
            answer = [PUBLIC_IP]
        if answer and isinstance(answer[0], list):
            index = min(self.calls.count(host), len(answer)) - 1
            answer = answer[index]
        return [ipaddress.ip_address(a) for a in answer]


class LoopbackBackend(httpcore.AsyncNetworkBackend):
    """Opens every TCP connection to 127.0.0.1 and records what was asked for."""

    def __init__(self) -> None:
        self.inner = AsyncioBackend()
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        return await self.inner.connect_tcp(
            "127.0.0.1", port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@pytest.fixture(scope="session")
def server() -> Iterator[TestServer]:
    """The local test server, shared by the whole session."""
    srv = TestServer()
    for path, handler in DEFAULT_ROUTES.items():
        srv.route(path, handler)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only."""
    return "asyncio"


class Harness:
    """Builds a client and Fetcher wired to the test server, the fake DNS and loopback."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.resolver = FakeResolver()
        self.backend = LoopbackBackend()

    def config(self, **overrides: Any) -> FetchConfig:
        """TEST_CONFIG with some fields changed."""
        return replace(TEST_CONFIG, **overrides)

    @asynccontextmanager
    async def fetcher(self, **overrides: Any) -> AsyncIterator[Fetcher]:
        """A Fetcher on a fresh client, for one test."""
        config = self.config(**overrides)
        async with make_client(config, network_backend=self.backend) as client:
            yield Fetcher(config, client, resolver=self.resolver)

    async def fetch(self, url: str | FetchRequest, **overrides: Any) -> FetchResult:
        """Fetch one URL (or request) with a fresh Fetcher."""
        request = url if isinstance(url, FetchRequest) else FetchRequest(url)
        async with self.fetcher(**overrides) as fetcher:
            return await fetcher.fetch(request)

    async def fetch_many(self, urls: Sequence[str], **overrides: Any) -> list[FetchResult]:
        """Fetch several URLs with one Fetcher."""
        async with self.fetcher(**overrides) as fetcher:
            return await fetcher.fetch_many([FetchRequest(u) for u in urls])


@pytest.fixture
def harness(server: TestServer) -> Harness:
    """A fresh harness (own fake DNS and connection log) on the shared server."""
    return Harness(server)
