"""HostScheduler with a fake clock, and the never-raise contract of the Fetcher."""

from __future__ import annotations

import asyncio

import pytest

from fetching import FetchRequest, Outcome
from fetching.guard import IPAddress
from fetching.politeness import HostScheduler
from tests.fetching.conftest import Harness

pytestmark = pytest.mark.anyio


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)


def scheduler(time: FakeTime, delay: float = 1.0, concurrency: int = 16) -> HostScheduler:
    return HostScheduler(
        concurrency=concurrency, per_host_concurrency=2, per_host_delay=delay,
        clock=time.clock, sleep=time.sleep,
    )


async def test_first_request_to_a_host_does_not_wait() -> None:
    time = FakeTime()
    async with scheduler(time).slot("a"):
        pass
    assert time.sleeps == []


async def test_starts_to_one_host_are_spaced_by_the_delay() -> None:
    time = FakeTime()
    sched = scheduler(time)
    starts = []
    for _ in range(3):
        async with sched.slot("a"):
            starts.append(time.now)
    assert starts == [100.0, 101.0, 102.0]


async def test_elapsed_time_counts_toward_the_delay() -> None:
    time = FakeTime()
    sched = scheduler(time)
    async with sched.slot("a"):
        pass
    time.now += 0.75
    async with sched.slot("a"):
        pass
    assert time.sleeps == [0.25]


async def test_hosts_do_not_wait_for_each_other() -> None:
    time = FakeTime()
    sched = scheduler(time)
    for host in "abcd":
        async with sched.slot(host):
            pass
    assert time.sleeps == []


async def test_crawl_delay_raises_but_never_lowers() -> None:
    time = FakeTime()
    sched = scheduler(time)
    sched.raise_delay("a", 5.0)
    sched.raise_delay("a", 0.1)
    assert sched.delay_of("a") == 5.0
    assert sched.delay_of("b") == 1.0


async def test_concurrent_waiters_are_spaced_too() -> None:
    time = FakeTime()
    sched = scheduler(time, delay=2.0)
    starts: list[float] = []

    async def one() -> None:
        async with sched.slot("a"):
            starts.append(time.now)

    await asyncio.gather(*(one() for _ in range(4)))
    assert sorted(starts) == [100.0, 102.0, 104.0, 106.0]


class ExplodingResolver:
    """A resolver with a bug."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        if host.startswith("boom"):
            raise RuntimeError("resolver bug: kaboom")
        from ipaddress import ip_address

        return [ip_address("93.184.216.34")]


async def test_unexpected_exception_becomes_internal_error(harness: Harness) -> None:
    harness.resolver = ExplodingResolver()  # type: ignore[assignment]
    urls = [
        harness.server.url("/ok", host="fine.test"),
        harness.server.url("/ok", host="boom.test"),
    ]
    async with harness.fetcher(respect_robots=False) as fetcher:
        single = await fetcher.fetch(FetchRequest(urls[1]))
        many = await fetcher.fetch_many([FetchRequest(u) for u in urls])
    assert single.outcome is Outcome.INTERNAL_ERROR
    assert single.error is not None and "kaboom" in single.error
    assert single.attempts[0].outcome is Outcome.INTERNAL_ERROR
    assert [r.outcome for r in many] == [Outcome.OK, Outcome.INTERNAL_ERROR]
