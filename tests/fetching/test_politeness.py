"""fetching/politeness.py: HostScheduler with a fake clock, then politeness proved from the
server's own access log (arrival times, in-flight counts).

Only lower bounds on time are asserted: a slow machine may be slower, never faster.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from fetching import FetchRequest, Outcome
from fetching.politeness import HostScheduler, Slots
from tests.fetching.conftest import SLACK, Harness, gaps

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
    for host in "aabb":
        async with sched.slot(host):
            pass
    # The second request to each host waits its delay: 5.0 for a, b keeps the default.
    assert time.sleeps == [5.0, 1.0]


async def test_concurrent_waiters_are_spaced_too() -> None:
    time = FakeTime()
    sched = scheduler(time, delay=2.0)
    starts: list[float] = []

    async def one() -> None:
        async with sched.slot("a"):
            starts.append(time.now)

    await asyncio.gather(*(one() for _ in range(4)))
    assert sorted(starts) == [100.0, 102.0, 104.0, 106.0]


def unique() -> str:
    """A fresh label for hosts and paths of one test."""
    return uuid.uuid4().hex[:8]


async def test_per_host_delay_spaces_request_starts(harness: Harness) -> None:
    run = unique()
    name = f"polite-{run}.test"
    urls = [harness.server.url(f"/ok/{run}/{i}", host=name) for i in range(5)]
    results = await harness.fetch_many(urls, per_host_delay=0.2, respect_robots=False)
    assert all(r.outcome is Outcome.OK for r in results)
    arrivals = [e.arrived for e in harness.server.entries(host=name)]
    assert len(arrivals) == 5
    assert min(gaps(arrivals)) >= 0.2 - SLACK


async def test_delay_is_per_host_not_global(harness: Harness) -> None:
    run = unique()
    hosts = [f"h{i}-{run}.test" for i in range(4)]
    urls = [harness.server.url(f"/ok/{run}/{j}", host=h) for h in hosts for j in range(2)]
    results = await harness.fetch_many(urls, per_host_delay=0.3, respect_robots=False)
    assert all(r.outcome is Outcome.OK for r in results)
    for name in hosts:
        assert min(gaps(e.arrived for e in harness.server.entries(host=name))) >= 0.3 - SLACK
    # Different hosts are not held to each other's delay: every host's first request
    # comes before any host's second one.
    firsts, seconds = zip(
        *(sorted(e.arrived for e in harness.server.entries(host=h)) for h in hosts),
        strict=True,
    )
    assert max(firsts) < min(seconds)


async def test_global_concurrency_limit(harness: Harness) -> None:
    run = unique()
    hosts = [f"c{i}-{run}.test" for i in range(8)]
    urls = [harness.server.url(f"/slow/250/{run}", host=h) for h in hosts]
    results = await harness.fetch_many(urls, concurrency=3, respect_robots=False)
    assert all(r.outcome is Outcome.OK for r in results)
    peak = _peak(harness, hosts)
    assert peak <= 3
    assert peak >= 2  # and it does run things concurrently


async def test_per_host_concurrency_limit(harness: Harness) -> None:
    run = unique()
    name = f"busy-{run}.test"
    urls = [harness.server.url(f"/slow/250/{run}/{i}", host=name) for i in range(6)]
    results = await harness.fetch_many(
        urls, per_host_concurrency=2, per_host_delay=0.0, respect_robots=False
    )
    assert all(r.outcome is Outcome.OK for r in results)
    assert harness.server.max_inflight[name] == 2


async def test_schedule_persists_across_fetch_many_calls(harness: Harness) -> None:
    run = unique()
    name = f"batches-{run}.test"
    async with harness.fetcher(per_host_delay=0.3) as fetcher:
        for batch in range(3):
            results = await fetcher.fetch_many(
                [FetchRequest(harness.server.url(f"/ok/{run}/{batch}", host=name))]
            )
            assert results[0].outcome is Outcome.OK
    entries = harness.server.entries(host=name)
    assert [e.path for e in entries].count("/robots.txt") == 1  # cached for the run
    assert min(gaps(e.arrived for e in entries)) >= 0.3 - SLACK


async def test_fetch_many_keeps_input_order_and_reports_progress(harness: Harness) -> None:
    run = unique()
    urls = [
        harness.server.url(f"/slow/{ms}/{run}", host=f"o{i}-{run}.test")
        for i, ms in enumerate((300, 10, 150, 50))
    ]
    seen: list[str] = []
    async with harness.fetcher(respect_robots=False) as fetcher:
        results = await fetcher.fetch_many(
            [FetchRequest(u) for u in urls], on_result=lambda r: seen.append(r.url)
        )
    assert [r.url for r in results] == urls
    assert sorted(seen) == sorted(urls)
    assert seen[0] == urls[1]  # the fastest finished first


def _peak(harness: Harness, hosts: list[str]) -> int:
    """Most requests in flight at once across `hosts`, from arrival/response times."""
    events = []
    for name in hosts:
        for entry in harness.server.entries(host=name):
            assert entry.responded is not None
            events += [(entry.arrived, 1), (entry.responded, -1)]
    level = peak = 0
    for _time, step in sorted(events):
        level += step
        peak = max(peak, level)
    return peak


# --- Slots: the global limit's O(1) FIFO semaphore (issue 20) ----------------------------


async def test_slots_are_handed_out_in_order_and_never_exceed_the_limit() -> None:
    slots = Slots(2)
    order: list[int] = []
    held = peak = 0

    async def one(n: int) -> None:
        nonlocal held, peak
        await slots.acquire()
        held += 1
        peak = max(peak, held)
        order.append(n)
        await asyncio.sleep(0)
        held -= 1
        slots.release()

    await asyncio.gather(*(one(n) for n in range(20)))
    assert order == list(range(20)) and peak == 2


async def test_a_waiter_cancelled_before_its_turn_is_skipped() -> None:
    slots = Slots(1)
    await slots.acquire()
    cancelled = asyncio.ensure_future(slots.acquire())
    waiting = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    slots.release()
    await asyncio.wait_for(waiting, 5)  # the slot went past the cancelled waiter
    assert cancelled.cancelled()
    slots.release()
    await asyncio.wait_for(slots.acquire(), 5)  # and came back: nothing was lost


async def test_a_waiter_cancelled_after_being_handed_a_slot_passes_it_on() -> None:
    slots = Slots(1)
    await slots.acquire()
    first = asyncio.ensure_future(slots.acquire())
    second = asyncio.ensure_future(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # hands the slot to `first`, which has not run yet
    first.cancel()
    await asyncio.wait_for(second, 5)
    assert first.cancelled()
