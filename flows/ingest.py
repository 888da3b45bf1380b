"""The `ingest` flow: seeds → citations → fetch → extract → DuckDB, then publish.

Resources (working database, HTTP client, extraction processes) are opened here and
passed down to thin tasks. Fetching of batch i+1 overlaps the extraction of batch i.
"""

# No `from __future__ import annotations`: the flow's pydantic parameter must resolve at
# serve time (PrefectHQ/prefect#19447).
import contextlib
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run

from extractors.content import Extraction
from fetching.records import FetchResult
from flows import resources
from flows.dedup_pass import run_dedup
from flows.dedup_step import DedupConfig
from flows.extraction import ExtractionPool
from flows.faults import checkpoint
from flows.progress import RunProgress
from flows.seeds import SeedDocument, SeedLimits
from flows.settings import IngestParameters
from flows.steps import now
from flows.summary import RunSummary, Tally
from flows.tasks import extract_batch, fetch_batch, read_seeds, save_batch, save_seeds, unwalked
from flows.timing import StageClock
from storage.database import WorkingDatabase, write_errors
from storage.dedup_store import DedupStore
from storage.store import Store


@flow(name="ingest", description="Fetch, extract and store the pages that seed documents cite.")
async def ingest(params: IngestParameters = IngestParameters()) -> RunSummary:  # noqa: B008
    """Run the whole pipeline once and publish the database for SQL clients."""
    run_id = _run_id()
    tally = Tally()
    clock = StageClock()
    with WorkingDatabase(Path(params.db)) as wdb, ExtractionPool(params.extract_workers) as pool:
        store = Store(wdb.con)
        resume_since = store.interrupt_stale_runs(run_id, now())
        store.start_run(run_id, params.model_dump(mode="json"), now())
        try:
            with write_errors(wdb.work_path):
                await _run(params, store, pool, run_id, tally, resume_since, clock)
                with clock.timed("dedup"):
                    _dedup(params, DedupStore(wdb.con), tally)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                store.finish_run(run_id, "failed", tally.counts, now(), error=repr(exc)[:2000])
            raise
        with write_errors(wdb.work_path):
            store.finish_run(run_id, "completed", tally.counts, now())
            totals = store.totals()
        checkpoint("run-finished")
        with clock.timed("publish"):
            wdb.publish(before_rename=lambda: checkpoint("publish-copied"))
        checkpoint("published")
    get_run_logger().info("stage seconds: %s", dict(clock.as_tuple()))
    return RunSummary(
        run_id, params.db, tally.as_tuple(), tuple(sorted(totals.items())), clock.as_tuple()
    )


async def _run(
    params: IngestParameters,
    store: Store,
    pool: ExtractionPool,
    run_id: str,
    tally: Tally,
    resume_since: datetime | None,
    clock: StageClock,
) -> None:
    logger = get_run_logger()
    limits = SeedLimits(params.max_seed_bytes, params.max_urls_per_seed)
    with clock.timed("seeds"):
        seeds = read_seeds(params.seeds, limits)
        checkpoint("seeds-read")
        tally.add(save_seeds(store, seeds))
        checkpoint("seeds-stored")
        urls = _due_urls(store, _cited_urls(seeds), params, tally, resume_since)
    logger.info("%d seeds, %d URLs to fetch", len(seeds), len(urls))
    config = params.fetch_config()
    with RunProgress(logger) as progress:
        progress.start("fetch", len(urls))
        progress.start("extract", len(urls))
        async with resources.open_fetcher(config) as fetcher:
            pending: deque[tuple[list[FetchResult], PrefectFuture[list[Extraction]]]] = deque()
            for batch in _chunks(urls, params.batch_size):
                with clock.timed("fetch"):
                    results = await fetch_batch(fetcher, unwalked(store.fetch_requests(batch)))
                checkpoint("batch-fetched")
                progress.advance("fetch", len(results))
                # Submit before storing the previous batch, so the pool always has a batch
                # queued and never idles while this process stores.
                pending.append((results, _timed_submit(pool, results, clock)))
                if len(pending) > 1:
                    _store(store, run_id, *pending.popleft(), tally, progress, clock)
            while pending:
                _store(store, run_id, *pending.popleft(), tally, progress, clock)
    checkpoint("fetch-done")


def _dedup(params: IngestParameters, dstore: DedupStore, tally: Tally) -> None:
    """Sign new or changed documents, verify their pairs, rebuild clusters, find repeats."""
    config = DedupConfig(params.dedup_threshold, params.boilerplate_min_docs, params.dedup_batch)
    run_dedup(dstore, config, tally)


def _store(
    store: Store,
    run_id: str,
    results: list[FetchResult],
    future: PrefectFuture[list[Extraction]],
    tally: Tally,
    progress: RunProgress,
    clock: StageClock,
) -> None:
    extractions = future.result()
    with clock.timed("store"):
        tally.add(save_batch(store, run_id, unwalked(results), unwalked(extractions)))
    checkpoint("batch-stored")
    progress.advance("extract", len(results))


def _timed_submit(
    pool: ExtractionPool, results: list[FetchResult], clock: StageClock
) -> PrefectFuture[list[Extraction]]:
    """Submit a batch's extraction; its wall time (submit to done) counts as 'extract'."""
    start = time.perf_counter()
    future = extract_batch.submit(pool, unwalked(results))
    future.add_done_callback(lambda _: clock.span("extract", start, time.perf_counter()))
    return future


def _cited_urls(seeds: Sequence[SeedDocument]) -> list[str]:
    """Every URL the seeds cite, once, in order of first citation."""
    return list(dict.fromkeys(c.url for seed in seeds for c in seed.citations))


def _due_urls(
    store: Store,
    urls: list[str],
    params: IngestParameters,
    tally: Tally,
    resume_since: datetime | None,
) -> list[str]:
    """The URLs to fetch this run: resume, the re-fetch policy and the per-run cap applied."""
    if resume_since is not None:
        # A killed run's fetches are kept (one transaction per batch): resume after them.
        done = store.fresh_urls(urls, resume_since, any_outcome=True)
        tally.bump("fetch", "done_by_interrupted_run", len(done))
        urls = [u for u in urls if u not in done]
    if params.refetch_after_hours > 0:
        fresh = store.fresh_urls(urls, now() - timedelta(hours=params.refetch_after_hours))
        tally.bump("fetch", "skipped_fresh", len(fresh))
        urls = [u for u in urls if u not in fresh]
    tally.bump("fetch", "deferred_run_cap", max(0, len(urls) - params.max_urls_per_run))
    return urls[: params.max_urls_per_run]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _run_id() -> str:
    run = flow_run.get_id()
    return str(run) if run else str(uuid.uuid4())
