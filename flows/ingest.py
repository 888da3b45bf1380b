"""The `ingest` flow: seeds → citations → fetch → extract → DuckDB, then publish.

Resources (working database, HTTP client, extraction processes) are opened here and
passed down to thin tasks. Fetching of batch i+1 overlaps the extraction of batch i.
"""

# No `from __future__ import annotations`: the flow's pydantic parameter must resolve at
# serve time (PrefectHQ/prefect#19447).
import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prefect import flow, get_run_logger
from prefect.context import SyncClientContext

from dedup import MinHashParams
from flows import resources
from flows.artifacts import FetchProgress, publish_report
from flows.batches import Batches, InFlight, open_batches
from flows.dedup_pass import run_dedup
from flows.faults import checkpoint
from flows.lifecycle import WritingRun, writing_run
from flows.progress import RunProgress
from flows.resume import resume_hook
from flows.run_parameters import complete_parameters
from flows.settings import IngestParameters
from flows.site_report import refresh_report, report_url
from flows.tasks import (
    check_quotes,
    dedup_report,
    fetch_mementos,
    passages_report,
    read_seeds,
    save_batch,
    save_mementos,
    save_seeds,
    unwalked,
)
from pipeline.batching import chunks
from pipeline.dedup_step import index_passages, save_and_verify
from pipeline.extraction import ExtractionPool
from pipeline.isolation import Failures, guarded, isolate
from pipeline.mementos import memento_candidates, pages_of
from pipeline.seeds import SeedDocument, SeedLimits
from pipeline.shingle_cache import ShingleCache
from pipeline.steps import BatchReport, now
from pipeline.summary import RunSummary, Tally
from pipeline.timing import StageClock
from storage.database import write_errors
from storage.dedup_store import DedupStore
from storage.errors import RunTimedOut
from storage.outcomes import FetchSkip, RunStatus, Stage, Step, VersionReason
from storage.quotes import QuoteStore
from storage.run_report import RunReport
from storage.store import Store


@flow(
    name="ingest", description="Fetch, extract and store the pages that seed documents cite.",
    persist_result=False,
    # A crashed or timed-out run of a deployment starts again (flows/resume.py).
    on_crashed=[resume_hook], on_failure=[resume_hook],
)
async def ingest(params: IngestParameters = IngestParameters()) -> RunSummary:  # noqa: B008
    """Run the whole pipeline once and publish the database for SQL clients.

    Args:
        params: Settings of this run; fields left out come from the deployment's defaults.
    """
    params = await complete_parameters(params)
    parameters = params.model_dump(mode="json")
    async with writing_run(params.db, params.db_memory_limit, parameters) as started:
        return await _ingest(params, started)


async def _ingest(params: IngestParameters, started: WritingRun) -> RunSummary:
    run_id, wdb, store, resume_since = (
        started.run_id, started.wdb, started.store, started.resume_since
    )
    tally = Tally()
    clock = StageClock()
    # Each sync task called from this async flow would otherwise build its own Prefect API
    # client (an SSL context: ~30 ms of CPU per call); with one for the run it costs ~3 ms.
    with SyncClientContext.get_or_create(), ExtractionPool(params.extract_workers) as pool:
        report = RunReport.begin(store.con, run_id, params.db)
        run = _Run(params, store, DedupStore(wdb.con), run_id, tally, clock)
        # Past its time the run stops at the next await (a batch, a fetch): a hung night
        # must not hold the writer lock, and so every later night, for ever (issue 17).
        deadline = asyncio.timeout(params.timeout_hours * 3600)
        try:
            async with deadline:
                with write_errors(wdb.work_path):
                    await _run(run, pool, resume_since)
                    await asyncio.sleep(0)  # a last check before the dedup steps
                    with clock.timed("clusters"):
                        _dedup(params, run.dstore, tally, run.failures)
                    with clock.timed("quotes"):
                        _quotes(params, QuoteStore(wdb.con), tally, run.failures)
                    checkpoint("quotes")
        except TimeoutError as exc:
            if not deadline.expired():  # a TimeoutError of something else: a failure
                started.fail(tally, RunStatus.FAILED, repr(exc))
                raise
            message = f"timed out after {params.timeout_hours:g} h (--timeout-hours)"
            started.fail(tally, RunStatus.TIMED_OUT, message)
            raise RunTimedOut(f"{message}; the next run resumes from {wdb.work_path}") from exc
        except BaseException as exc:
            started.fail(tally, RunStatus.FAILED, repr(exc))
            raise
        with write_errors(wdb.work_path):
            _, gone = report.change_counts()
            tally.bump(Stage.VERSIONS, VersionReason.GONE, gone)
            status = started.complete(tally, run.failures)
            totals = store.totals()
            changes, gone_pages = report.page_changes(), report.gone_pages()
            seed_quotes = report.seed_quotes()
        await publish_report(report, tally.as_tuple(), totals, report_url(params.report_dir))
        checkpoint("run-finished")
        with clock.timed("publish"):
            wdb.publish(before_rename=lambda: checkpoint("publish-copied"))
        checkpoint("published")
    warnings: tuple[str, ...] = ()
    if params.report_dir:
        with clock.timed("report"):
            warnings = refresh_report(params.db, params.report_dir, get_run_logger())
    get_run_logger().info("stage seconds: %s", dict(clock.as_tuple()))
    return RunSummary(
        run_id, params.db, tally.as_tuple(), tuple(sorted(totals.items())), clock.as_tuple(),
        status, tuple(changes), tuple(gone_pages), warnings, tuple(seed_quotes),
    )


# The first batch has this many pages per extraction worker (then doubling up to batch_size).
_RAMP_PER_WORKER = 8
# Batches started ahead of the one being stored (memory holds _AHEAD + 1 batches of pages).
_AHEAD = 2


@dataclass(frozen=True, slots=True)
class _Run:
    """What every step of one run writes to or reads from."""

    params: IngestParameters
    store: Store
    dstore: DedupStore
    run_id: str
    tally: Tally
    clock: StageClock
    shingles: ShingleCache = field(default_factory=ShingleCache)
    failures: Failures = field(default_factory=Failures)


async def _run(run: _Run, pool: ExtractionPool, resume_since: datetime | None) -> None:
    logger = get_run_logger()
    params, store, clock = run.params, run.store, run.clock
    limits = SeedLimits(params.max_seed_bytes, params.max_urls_per_seed)
    with clock.timed("seeds"):
        seeds = read_seeds(params.seeds, limits)
        checkpoint("seeds-read")
        run.tally.add(save_seeds(store, seeds))
        checkpoint("seeds-stored")
        urls = _due_urls(store, _cited_urls(seeds), params, run.tally, resume_since)
    logger.info("%d seeds, %d URLs to fetch", len(seeds), len(urls))
    with RunProgress(logger) as progress:
        progress.start("fetch", len(urls))
        progress.start("extract", len(urls))
        fetch_progress = await FetchProgress.create(len(urls))

        async def fetched(n: int) -> None:
            checkpoint("batch-fetched")
            progress.advance("fetch", n)
            await fetch_progress.advance(n)

        async with open_batches(params, pool, clock, fetched, len(urls)) as batches:
            pending: deque[InFlight] = deque()
            first = _RAMP_PER_WORKER * pool.workers
            for batch in chunks(urls, params.batch_size, first):
                pending.append(batches.start(store.fetch_requests(batch)))
                # Up to _AHEAD batches fetch and extract while the oldest is awaited and
                # stored: the pool always has one queued, and one batch's politeness
                # waits overlap the next one's fetches.
                if len(pending) > _AHEAD:
                    await _store(run, batches, pending.popleft(), progress)
            while pending:
                await _store(run, batches, pending.popleft(), progress)
    checkpoint("fetch-done")
    if params.memento_timegate:
        with clock.timed("mementos"):
            await _recover(run, pool, urls)


async def _recover(run: _Run, pool: ExtractionPool, urls: Sequence[str]) -> None:
    """Ask the web archive for the dead URLs among `urls` (pipeline/mementos.py)."""
    wanted = memento_candidates(run.store, urls)
    if not wanted:
        return
    get_run_logger().info("%d dead URLs: asking %s", len(wanted), run.params.memento_timegate)
    async with resources.open_fetcher(run.params.fetch_config()) as fetcher:
        results = await fetch_mementos(fetcher, run.params.memento_timegate, wanted)
    extractions = pool.extract(pages_of(results))
    run.tally.add(save_mementos(run.store, run.run_id, unwalked(results), unwalked(extractions)))
    checkpoint("mementos-stored")


async def _store(run: _Run, batches: Batches, batch: InFlight, progress: RunProgress) -> None:
    """Store a batch once extracted, then sign its new or changed documents."""
    results, extractions = await batch.wait()
    with run.clock.timed("store"):
        report = save_batch(
            run.store, run.run_id, unwalked(results), unwalked(extractions),
            run.params.gone_after_runs,
        )
        run.tally.add(report)
    checkpoint("batch-stored")
    progress.advance("extract", len(results))
    # Signing here, not all at the end, overlaps it with the extraction of later batches.
    # No task run for storing signatures and verifying: a task run costs the Prefect
    # server ~35 ms of CPU, more than the work on 200 documents (it shows in the counts).
    minhash = MinHashParams()
    changed = list(report.changed)
    hashes = dict(report.content_hashes)

    def sign(ids: Sequence[int]) -> tuple[int, int, int]:
        signed = batches.sign(run.dstore.rows_to_sign(ids), minhash, hashes)
        return save_and_verify(run.dstore, signed, minhash, now(), run.shingles)

    with run.clock.timed("dedup"):
        for start in range(0, len(changed), run.params.dedup_batch):
            chunk = changed[start : start + run.params.dedup_batch]
            for counts in isolate(chunk, sign, Step.DEDUP, int, run.failures):
                run.tally.add(dedup_report(*counts))
            checkpoint("dedup-batch")
    # The batch's passages too, so little is left for the pass after the last batch.
    with run.clock.timed("passages"):
        indexed = index_passages(run.dstore, now(), run.failures, doc_ids=changed)
        run.tally.add(passages_report(*indexed))


def _dedup(params: IngestParameters, dstore: DedupStore, tally: Tally, failures: Failures) -> None:
    """Sign what is left (seeds, earlier runs' leftovers), update clusters, find repeats."""
    run_dedup(dstore, params.dedup_config(), tally, failures)


def _quotes(params: IngestParameters, quotes: QuoteStore, tally: Tally, failures: Failures) -> None:
    """Run the quote step; an error of it is recorded in step_failures, not raised."""
    # A quote step that raises (a bug on some seed or page) must not fail the night: each
    # of its parts commits with the marker it was derived from, so the run publishes and
    # the next run redoes what is left.
    def step() -> BatchReport:
        return check_quotes(quotes, params.min_quote_words, lambda: checkpoint("quotes-indexed"))

    report = guarded(step, Step.QUOTES, failures)
    if report is not None:
        tally.add(report)


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
        tally.bump(Stage.FETCH, FetchSkip.DONE_BY_INTERRUPTED_RUN, len(done))
        urls = [u for u in urls if u not in done]
    if params.refetch_after_hours > 0:
        fresh = store.fresh_urls(urls, now() - timedelta(hours=params.refetch_after_hours))
        tally.bump(Stage.FETCH, FetchSkip.SKIPPED_FRESH, len(fresh))
        urls = [u for u in urls if u not in fresh]
    tally.bump(Stage.FETCH, FetchSkip.DEFERRED_RUN_CAP, max(0, len(urls) - params.max_urls_per_run))
    return urls[: params.max_urls_per_run]
