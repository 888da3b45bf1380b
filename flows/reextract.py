"""The `reextract` flow: extract every archived response again, without fetching, then publish.

For an extractor upgrade (trafilatura, or our own extraction code): the stored raw
bodies (`responses`) are decoded with the charset the fetch chose and extracted again,
in batches across processes; only documents whose text or metadata changed are written,
then the same dedup step as `ingest` runs and the database is published. It is a Prefect
flow, like `ingest`, so a run shows in the UI with its batches and counts, can be started
from there after an upgrade, and is recorded in `runs` (parameters carry "flow").
"""

# No `from __future__ import annotations`: the flow's pydantic parameter must resolve at
# serve time (PrefectHQ/prefect#19447).
from collections.abc import Sequence
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from extractors.quotes import DEFAULT_MIN_WORDS
from flows.dedup_pass import run_dedup
from flows.lifecycle import writing_run
from flows.progress import RunProgress
from flows.run_parameters import with_deployment_defaults
from flows.settings import ReextractParameters
from flows.site_report import refresh_report
from flows.tasks import check_quotes
from pipeline.batching import chunks
from pipeline.extraction import ExtractionPool
from pipeline.isolation import Failures
from pipeline.reextract_steps import PageGroup, extract_groups, group_pages, store_reextracted
from pipeline.steps import BatchReport, now
from pipeline.summary import RunSummary, Tally
from storage.archive import ArchiveStore
from storage.database import working_path
from storage.dedup_store import DedupStore
from storage.errors import DatabaseUnavailable
from storage.outcomes import RunStatus
from storage.quotes import QuoteStore
from storage.store import Store


@task(name="reextract-batch", cache_policy=NO_CACHE)
def reextract_batch(
    store: Store, archive: ArchiveStore, pool: ExtractionPool, groups: Sequence[PageGroup]
) -> BatchReport:
    """Extract a batch of archived pages again and store the documents that changed."""
    at = now()
    extractions = extract_groups(archive, pool, groups)
    return store_reextracted(store, archive, groups, extractions, at)


@flow(
    name="reextract",
    description="Re-run extraction over the archived raw responses (no fetching), dedup, publish.",
)
async def reextract(params: ReextractParameters = ReextractParameters()) -> RunSummary:  # noqa: B008
    """Extract every archived page again, update what changed, dedup and publish.

    The same run lifecycle as `ingest` (flows/lifecycle.py): the writer lock, the memory
    limit, interrupted runs marked.
    """
    params = await with_deployment_defaults(params)
    db = Path(params.db)
    if not db.exists() and not working_path(db).exists():
        raise DatabaseUnavailable(f"no database at {db}; run `recite run` first")
    tally = Tally()
    parameters = {"flow": "reextract", **params.model_dump(mode="json")}
    async with writing_run(params.db, params.db_memory_limit, parameters) as started:
        store, run_id = started.store, started.run_id
        archive = ArchiveStore(started.wdb.con)
        failures = Failures()
        with ExtractionPool(params.extract_workers) as pool:
            try:
                _reextract(params, store, archive, pool, tally)
                config = params.dedup_config(archive.dedup_settings())
                run_dedup(DedupStore(started.wdb.con), config, tally, failures)
                quotes = QuoteStore(started.wdb.con)
                min_words = params.min_quote_words or quotes.latest_min_words()
                tally.add(check_quotes(quotes, min_words or DEFAULT_MIN_WORDS))
            except BaseException as exc:
                started.fail(tally, RunStatus.FAILED, repr(exc))
                raise
        status = started.complete(tally, failures)
        totals = store.totals()
        started.wdb.publish()
    warnings = refresh_report(params.db, params.report_dir, get_run_logger())
    return RunSummary(
        run_id, params.db, tally.as_tuple(), tuple(sorted(totals.items())), status=status,
        warnings=warnings,
    )


def _reextract(
    params: ReextractParameters,
    store: Store,
    archive: ArchiveStore,
    pool: ExtractionPool,
    tally: Tally,
) -> None:
    logger = get_run_logger()
    groups = group_pages(archive.keys())
    logger.info("%d archived pages to extract again", len(groups))
    with RunProgress(logger) as progress:
        progress.start("reextract", len(groups))
        for batch in chunks(groups, params.batch_size):
            tally.add(reextract_batch(store, archive, pool, batch))
            progress.advance("reextract", len(batch))


