"""Politeness: a global concurrency limit, and per host a connection limit and a
minimum delay between request starts. One scheduler lives for one run, so the
spacing holds across the flow's batches."""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class _Host:
    """Scheduling state of one host."""

    slots: asyncio.Semaphore
    delay: float
    start_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_start: float | None = None


class Slots:
    """A FIFO counting semaphore whose acquire and release cost O(1), however many wait.

    asyncio.Semaphore.acquire scans every waiter (`locked()`) and removes its own future
    from the middle of the queue: with hundreds of a run's fetches waiting for the global
    slots, that scan was 3% of the flow process's CPU (issue 20). Here a release hands
    its slot straight to the oldest waiter still waiting.
    """

    def __init__(self, value: int) -> None:
        self._free = value
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        """Take a slot, waiting in turn for one if none is free."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            # Cancelled after a release handed it the slot: pass the slot on. (A waiter
            # cancelled before is skipped by `release`, so it need not be removed.)
            if waiter.done() and not waiter.cancelled():
                self.release()
            raise

    def release(self) -> None:
        """Give a slot back: to the oldest waiter still waiting, else to the pool."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class HostScheduler:
    """Hands out request slots so no host is hammered and the run stays bounded."""

    def __init__(
        self,
        *,
        concurrency: int,
        per_host_concurrency: int,
        per_host_delay: float,
        clock: Clock,
        sleep: Sleep,
    ) -> None:
        self._global = Slots(max(1, concurrency))
        self._per_host = max(1, per_host_concurrency)
        self._default_delay = per_host_delay
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}

    def _host(self, host: str) -> _Host:
        """State of `host`, created on first use."""
        state = self._hosts.get(host)
        if state is None:
            state = _Host(slots=asyncio.Semaphore(self._per_host), delay=self._default_delay)
            self._hosts[host] = state
        return state

    def raise_delay(self, host: str, delay: float) -> None:
        """Make `host`'s delay at least `delay` (robots.txt Crawl-delay)."""
        state = self._host(host)
        state.delay = max(state.delay, delay)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one request slot for `host` (and one global slot) for the block."""
        state = self._host(host)
        # Host first, global second: a task waiting out a host's delay must not sit
        # on a global slot that another host could use.
        async with state.slots:
            async with state.start_lock:
                await self._wait_turn(state)
                await self._global.acquire()
                # Stamp after the global wait, so the spacing is between real starts.
                state.last_start = self._clock()
            try:
                yield
            finally:
                self._global.release()

    async def _wait_turn(self, state: _Host) -> None:
        """Sleep until `state.delay` has passed since the host's last request start."""
        if state.last_start is None:
            return
        wait = state.last_start + state.delay - self._clock()
        if wait > 0:
            await self._sleep(wait)
