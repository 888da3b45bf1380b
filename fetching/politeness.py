"""Politeness: a global concurrency limit, and per host a connection limit and a
minimum delay between request starts. One scheduler lives for one run, so the
spacing holds across the flow's batches."""

import asyncio
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
        self._global = asyncio.Semaphore(max(1, concurrency))
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
