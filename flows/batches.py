"""Where a run's batches execute: in this process (default) or on a Dask cluster.

Fetching always runs in the flow's event loop with the run's one Fetcher, whatever the
runner: its HostScheduler and RobotsCache then hold across every batch in flight, so a
host is fetched by one client at a time, with its delay, and each origin's robots.txt is
fetched once per run (issue 17). Fetching is I/O; the CPU goes to extraction and
signatures, and only those go to the executor. Default: extraction in the local process
pool, signatures in this process. Dask (prefect-dask): a fetched batch is split into one
extraction task per worker thread, and signature batches run on workers too. Inputs and
results are picklable records. Storage stays in the flow's process in both cases: one
process writes DuckDB.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from prefect.futures import PrefectFuture

from dedup import MinHashParams
from extractors.content import Extraction
from fetching.records import FetchRequest, FetchResult
from flows import resources
from flows.settings import IngestParameters
from flows.tasks import extract_batch, extract_pages, fetch_batch, sign_rows, unwalked
from pipeline.dedup_step import Signed, sign_batch
from pipeline.extraction import ExtractionPool
from pipeline.steps import pages_to_extract
from pipeline.timing import StageClock

Rows = Sequence[tuple[int, str, str]]
T = TypeVar("T")


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

    def sign(self, rows: Rows, params: MinHashParams, hashes: Mapping[str, int]) -> Signed:
        """Signatures, band keys and shingle sets of (doc_id, sha256, text) rows.

        `hashes`: the texts' normalized content hashes known already, by sha256.
        """
        ...


@dataclass(frozen=True, slots=True)
class _InFlight:
    work: "asyncio.Task[tuple[list[FetchResult], list[Extraction]]]"

    async def wait(self) -> tuple[list[FetchResult], list[Extraction]]:
        return await self.work


async def _done(future: PrefectFuture[Any]) -> None:
    """Wait for a task run without blocking the event loop (fetches go on meanwhile)."""
    await asyncio.to_thread(future.wait)


# Submits the extraction of a fetched batch's pages; the futures' results, concatenated
# in order, are the extractions of `pages_to_extract(results)`.
Submit = Callable[[list[FetchResult]], list[PrefectFuture[list[Extraction]]]]


class _FetchHere:
    """Fetch every batch in this event loop with the run's one Fetcher, then submit it."""

    def __init__(self, fetcher: Any, clock: StageClock,
                 on_fetched: Callable[[int], Awaitable[None]], submit: Submit) -> None:
        self._fetcher, self._clock, self._on_fetched, self._submit = (
            fetcher, clock, on_fetched, submit
        )

    def start(self, requests: list[FetchRequest]) -> InFlight:
        """Fetch the batch in the background (politely, across batches), then extract it."""
        return _InFlight(asyncio.ensure_future(self._fetch_then_extract(requests)))

    async def _fetch_then_extract(
        self, requests: list[FetchRequest]
    ) -> tuple[list[FetchResult], list[Extraction]]:
        with self._clock.timed("fetch"):
            results = await fetch_batch(self._fetcher, unwalked(requests))
        # Submitted as soon as fetched, so extraction is fed whatever the flow is waiting on.
        start = time.perf_counter()
        futures = self._submit(results)
        await self._on_fetched(len(results))
        extractions: list[Extraction] = []
        for future in futures:
            await _done(future)
            extractions.extend(future.result())
        self._clock.span("extract", start, time.perf_counter())
        return results, extractions


class LocalBatches(_FetchHere):
    """Fetch in this event loop with one Fetcher, extract in the local process pool."""

    def __init__(self, fetcher: Any, pool: ExtractionPool, clock: StageClock,
                 on_fetched: Callable[[int], Awaitable[None]]) -> None:
        super().__init__(fetcher, clock, on_fetched, self._extract)
        self._pool = pool

    def _extract(self, results: list[FetchResult]) -> list[PrefectFuture[list[Extraction]]]:
        return [extract_batch.submit(self._pool, unwalked(results))]

    def sign(self, rows: Rows, params: MinHashParams, hashes: Mapping[str, int]) -> Signed:
        """Sign here, without a task run (which would cost more than the signing)."""
        return sign_batch(rows, params, hashes)


class DaskBatches(_FetchHere):
    """Fetch here with the run's one Fetcher; extract and sign on a Dask cluster."""

    def __init__(self, fetcher: Any, runner: Any, clock: StageClock,
                 on_fetched: Callable[[int], Awaitable[None]]) -> None:
        super().__init__(fetcher, clock, on_fetched, self._extract)
        self._runner = runner
        self._parts = max(1, sum(runner.client.nthreads().values()))

    def _extract(self, results: list[FetchResult]) -> list[PrefectFuture[list[Extraction]]]:
        # Only the decoded pages travel: bodies and headers stay here, to be stored.
        return [
            self._runner.submit(extract_pages, {"pages": part})
            for part in split_evenly(pages_to_extract(results), self._parts)
        ]

    def sign(self, rows: Rows, params: MinHashParams, hashes: Mapping[str, int]) -> Signed:
        """Sign on a worker and wait for the result."""
        known = {sha: hashes[sha] for _, sha, _ in rows if sha in hashes}
        signed: Signed = self._runner.submit(
            sign_rows, {"rows": list(rows), "params": params, "content_hashes": known}
        ).result()
        return signed


def split_evenly(items: Sequence[T], parts: int) -> list[list[T]]:
    """Up to `parts` contiguous runs of `items`, in order, sizes differing by at most one."""
    size, extra = divmod(len(items), max(1, parts))
    runs, start = [], 0
    for index in range(max(1, parts)):
        end = start + size + (index < extra)
        if end > start:
            runs.append(list(items[start:end]))
        start = end
    return runs


@contextlib.asynccontextmanager
async def open_batches(
    params: IngestParameters, pool: ExtractionPool, clock: StageClock,
    on_fetched: Callable[[int], Awaitable[None]], pages: int,
) -> AsyncIterator[Batches]:
    """The run's batch executor for about `pages` URLs, chosen by `params.task_runner`."""
    async with resources.open_fetcher(params.fetch_config()) as fetcher:
        if params.task_runner == "dask":
            from prefect_dask.task_runners import DaskTaskRunner  # imports dask: only when asked

            with DaskTaskRunner(address=params.dask_address) as runner:
                yield DaskBatches(fetcher, runner, clock, on_fetched)
            return
        pool.warm(pages)
        yield LocalBatches(fetcher, pool, clock, on_fetched)
