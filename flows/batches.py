"""Where a run's batches execute: in this process (default) or on a Dask cluster.

Default: a fetch batch runs in the flow's event loop with the run's one Fetcher (so
per-host politeness and robots.txt hold across batches), extraction in the local process
pool, signatures in this process. Dask (prefect-dask): a batch is split by host into one
part per worker thread; each part's fetch task builds its own HTTP client and Fetcher on
a worker (a client is bound to one event loop), its extraction task runs on a worker
too, and so do signature batches. Inputs and results are picklable records. Storage
stays in the flow's process in both cases: one process writes DuckDB.
"""

import asyncio
import contextlib
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from prefect.futures import PrefectFuture

from dedup import MinHashParams
from extractors.content import Extraction
from fetching.config import FetchConfig
from fetching.records import FetchRequest, FetchResult
from flows import resources
from flows.settings import IngestParameters
from flows.tasks import (
    extract_batch,
    extract_here,
    fetch_batch,
    fetch_batch_alone,
    sign_rows,
    unwalked,
)
from pipeline.dedup_step import signature_batch
from pipeline.extraction import ExtractionPool
from pipeline.timing import StageClock
from storage.dedup_store import SignatureBatch

Rows = Sequence[tuple[int, str, str]]


class InFlight(Protocol):
    """A batch on its way: being fetched, then extracted."""

    async def wait(self) -> tuple[list[FetchResult], list[Extraction]]:
        """The batch's fetch results and the extractions of its ok results, in order."""
        ...


class Batches(Protocol):
    """Starts batches and signs documents, wherever they run."""

    def start(self, requests: list[FetchRequest]) -> InFlight:
        """Start fetching and extracting a batch; it proceeds while the caller awaits others."""
        ...

    def sign(self, rows: Rows, params: MinHashParams) -> SignatureBatch:
        """Signatures and band keys of (doc_id, sha256, text) rows."""
        ...


@dataclass(frozen=True, slots=True)
class _LocalInFlight:
    fetching: "asyncio.Task[tuple[list[FetchResult], PrefectFuture[list[Extraction]]]]"

    async def wait(self) -> tuple[list[FetchResult], list[Extraction]]:
        results, extracting = await self.fetching
        await _done(extracting)
        return results, extracting.result()


async def _done(future: PrefectFuture[Any]) -> None:
    """Wait for a task run without blocking the event loop (fetches go on meanwhile)."""
    await asyncio.to_thread(future.wait)


class LocalBatches:
    """Fetch in this event loop with one Fetcher, extract in the local process pool."""

    def __init__(self, fetcher: Any, pool: ExtractionPool, clock: StageClock,
                 on_fetched: Callable[[int], Awaitable[None]]) -> None:
        self._fetcher, self._pool, self._clock, self._on_fetched = fetcher, pool, clock, on_fetched

    def start(self, requests: list[FetchRequest]) -> InFlight:
        """Fetch the batch in the background (politely, across batches), then extract it."""
        return _LocalInFlight(asyncio.ensure_future(self._fetch_then_extract(requests)))

    async def _fetch_then_extract(
        self, requests: list[FetchRequest]
    ) -> tuple[list[FetchResult], PrefectFuture[list[Extraction]]]:
        with self._clock.timed("fetch"):
            results = await fetch_batch(self._fetcher, unwalked(requests))
        # Submitted as soon as fetched, so the pool is fed whatever the flow is waiting on.
        start = time.perf_counter()
        future = extract_batch.submit(self._pool, unwalked(results))
        future.add_done_callback(lambda _: self._clock.span("extract", start, time.perf_counter()))
        await self._on_fetched(len(results))
        return results, future

    def sign(self, rows: Rows, params: MinHashParams) -> SignatureBatch:
        """Sign here, without a task run (which would cost more than the signing)."""
        return signature_batch(rows, params)


@dataclass(frozen=True, slots=True)
class _Part:
    fetched: PrefectFuture[list[FetchResult]]
    extracted: PrefectFuture[list[Extraction]]


@dataclass(frozen=True, slots=True)
class _DaskInFlight:
    requests: list[FetchRequest]
    parts: list[_Part]
    clock: StageClock
    started: float
    on_fetched: Callable[[int], Awaitable[None]]

    async def wait(self) -> tuple[list[FetchResult], list[Extraction]]:
        by_url: dict[str, tuple[FetchResult, Extraction | None]] = {}
        for part in self.parts:
            await _done(part.fetched)
            results = part.fetched.result()
            self.clock.span("fetch", self.started, time.perf_counter())
            await _done(part.extracted)
            pending = iter(part.extracted.result())
            by_url.update((r.url, (r, next(pending) if r.ok else None)) for r in results)
        self.clock.span("extract", self.started, time.perf_counter())
        ordered = [by_url[request.url] for request in self.requests]
        await self.on_fetched(len(ordered))
        return [r for r, _ in ordered], [e for _, e in ordered if e is not None]


class DaskBatches:
    """Fetch, extract and sign on a Dask cluster; results come back here to be stored."""

    def __init__(self, runner: Any, config: FetchConfig, clock: StageClock,
                 on_fetched: Callable[[int], Awaitable[None]]) -> None:
        self._runner, self._config, self._clock, self._on_fetched = runner, config, clock, on_fetched
        self._parts = max(1, sum(runner.client.nthreads().values()))

    def start(self, requests: list[FetchRequest]) -> InFlight:
        """Submit one fetch task and one extraction task per part; nothing waits here."""
        started = time.perf_counter()
        parts = []
        for group in split_by_host(requests, self._parts):
            fetched = self._runner.submit(
                fetch_batch_alone, {"config": self._config, "requests": group}
            )
            # A future as a parameter: Dask hands the fetch result to the extraction task
            # worker to worker, without a trip through this process.
            extracted = self._runner.submit(extract_here, {"results": fetched})
            parts.append(_Part(fetched, extracted))
        return _DaskInFlight(requests, parts, self._clock, started, self._on_fetched)

    def sign(self, rows: Rows, params: MinHashParams) -> SignatureBatch:
        """Sign on a worker and wait for the result."""
        batch: SignatureBatch = self._runner.submit(
            sign_rows, {"rows": list(rows), "params": params}
        ).result()
        return batch


def split_by_host(requests: Sequence[FetchRequest], parts: int) -> list[list[FetchRequest]]:
    """Up to `parts` groups, every URL of a host in the same one (politeness holds per task)."""
    groups: list[list[FetchRequest]] = [[] for _ in range(max(1, parts))]
    for request in requests:
        host = request.url.split("/")[2] if "://" in request.url else request.url
        # crc32: stable across processes, unlike hash() of a str.
        groups[zlib.crc32(host.encode()) % len(groups)].append(request)
    return [g for g in groups if g]


@contextlib.asynccontextmanager
async def open_batches(
    params: IngestParameters, pool: ExtractionPool, clock: StageClock,
    on_fetched: Callable[[int], Awaitable[None]], pages: int,
) -> AsyncIterator[Batches]:
    """The run's batch executor for about `pages` URLs, chosen by `params.task_runner`."""
    config = params.fetch_config()
    if params.task_runner == "dask":
        from prefect_dask.task_runners import DaskTaskRunner  # imports dask: only when asked

        with DaskTaskRunner(address=params.dask_address) as runner:
            yield DaskBatches(runner, config, clock, on_fetched)
        return
    pool.warm(pages)
    async with resources.open_fetcher(config) as fetcher:
        yield LocalBatches(fetcher, pool, clock, on_fetched)
