"""Prefect tasks: thin wrappers over the plain steps, one task run per batch, never cached.

Prefect's default cache keys on inputs, so a cached fetch would never fetch again on the
next night (DESIGN.md): every task here uses NO_CACHE. Only I/O that can fail
transiently retries (reading seed files); fetch retries happen per URL inside the fetcher.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar, cast

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from dedup import MinHashParams
from extractors.content import Extraction, Html, extract_page
from fetching import Fetcher
from fetching.memento import MementoResult, find_mementos
from fetching.records import FetchRequest, FetchResult
from pipeline import dedup_step, mementos, steps
from pipeline.dedup_step import Signed, index_passages, sign_batch, update_clusters
from pipeline.extraction import ExtractionPool
from pipeline.isolation import Failures
from pipeline.quotes import update_quotes
from pipeline.seeds import SeedDocument, SeedLimits, discover, read_seed, skipped
from pipeline.steps import BatchReport, now, pages_to_extract
from storage.dedup_store import DedupStore
from storage.outcomes import DedupReason, PassageReason, Stage
from storage.quotes import QuoteStore
from storage.store import Store

T = TypeVar("T")


def unwalked(value: T) -> T:
    """`value` as a task argument Prefect passes through without walking it.

    Prefect visits every element and dataclass field of a task's arguments (to find
    futures and record inputs); for a batch of 200 fetch results with their headers
    that is tens of thousands of objects per call. `quote` skips it; the task still
    receives `value` itself.
    """
    return cast(T, quote(value))


@task(name="read-seeds", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def read_seeds(paths: Sequence[str], limits: SeedLimits) -> list[SeedDocument]:
    """Read every seed file under `paths`; unusable files come back as skipped seeds."""
    return [
        skipped(path, reason) if reason else read_seed(path, limits)
        for path, reason in discover(paths)
    ]


@task(name="save-seeds", cache_policy=NO_CACHE)
def save_seeds(store: Store, seeds: Sequence[SeedDocument]) -> BatchReport:
    """Store the seeds, their documents and citations."""
    return steps.save_seeds(store, seeds)


@task(name="fetch-batch", cache_policy=NO_CACHE)
async def fetch_batch(fetcher: Fetcher, requests: Sequence[FetchRequest]) -> list[FetchResult]:
    """Fetch a batch of URLs politely; every URL returns an outcome."""
    return await fetcher.fetch_many(requests)


@task(name="extract-pages", cache_policy=NO_CACHE)
def extract_pages(pages: Sequence[tuple[Html, str]]) -> list[Extraction]:
    """Extract (html, url) pages in this process (on a Dask worker, the worker is the pool)."""
    return [extract_page(html, url) for html, url in pages]


@task(name="sign-batch", cache_policy=NO_CACHE)
def sign_rows(
    rows: Sequence[tuple[int, str, str]], params: MinHashParams,
    content_hashes: Mapping[str, int] | None = None,
) -> Signed:
    """Signatures, band keys and shingle sets of (doc_id, sha256, text) rows; runs anywhere."""
    return sign_batch(rows, params, content_hashes)


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_batch(pool: ExtractionPool, results: Sequence[FetchResult]) -> list[Extraction]:
    """Extract main text and metadata of the batch's pages across processes."""
    return pool.extract(pages_to_extract(results))


@task(name="fetch-mementos", cache_policy=NO_CACHE)
async def fetch_mementos(
    fetcher: Fetcher, timegate: str, wanted: Sequence[tuple[str, datetime]]
) -> list[MementoResult]:
    """Ask the TimeGate for each dead URL's capture nearest its citation date (RFC 7089)."""
    return await find_mementos(fetcher, timegate, wanted)


@task(name="save-mementos", cache_policy=NO_CACHE)
def save_mementos(
    store: Store, run_id: str, results: Sequence[MementoResult], extractions: Sequence[Extraction]
) -> BatchReport:
    """Store the lookups and the mementos recovered, as versions and documents."""
    return mementos.save_mementos(store, run_id, results, extractions, now())


@task(name="save-batch", cache_policy=NO_CACHE)
def save_batch(
    store: Store,
    run_id: str,
    results: Sequence[FetchResult],
    extractions: Sequence[Extraction],
    gone_after_runs: int,
) -> BatchReport:
    """Store a batch's fetch attempts, documents and page versions in one transaction."""
    return steps.save_batch(store, run_id, results, extractions, gone_after_runs)


@task(name="dedup-batch", cache_policy=NO_CACHE)
def dedup_batch(dstore: DedupStore, doc_ids: Sequence[int], params: MinHashParams) -> BatchReport:
    """Sign a batch of new or changed documents and verify their candidate pairs."""
    signed, candidates, pairs = dedup_step.dedup_batch(dstore, doc_ids, params, now())
    return dedup_report(signed, candidates, pairs)


@task(name="dedup-clusters", cache_policy=NO_CACHE)
def dedup_clusters(dstore: DedupStore, threshold: float) -> BatchReport:
    """Update the near-duplicate clusters of documents whose pairs changed (at the threshold)."""
    clusters, docs = update_clusters(dstore, threshold, now())
    return BatchReport((
        (Stage.DEDUP, DedupReason.CLUSTERS, clusters),
        (Stage.DEDUP, DedupReason.CLUSTERED_DOCUMENTS, docs),
    ))


@task(name="dedup-passages", cache_policy=NO_CACHE)
def dedup_passages(dstore: DedupStore, failures: Failures) -> BatchReport:
    """Index new distinct passages and verify their near repeats; set aside those that fail.

    Pass `failures` through `unwalked`: Prefect would otherwise hand the task a copy.
    """
    return passages_report(*index_passages(dstore, now(), failures))


def passages_report(indexed: int, pairs: int) -> BatchReport:
    """The counts of indexing passages and verifying their near repeats."""
    return BatchReport((
        (Stage.PASSAGES, PassageReason.INDEXED, indexed),
        (Stage.PASSAGES, PassageReason.NEAR_REPEAT_PAIRS, pairs),
    ))


def dedup_report(signed: int, candidates: int, pairs: int) -> BatchReport:
    """The counts of signing and verifying a batch."""
    return BatchReport((
        (Stage.DEDUP, DedupReason.SIGNED, signed),
        (Stage.DEDUP, DedupReason.CANDIDATES, candidates),
        (Stage.DEDUP, DedupReason.PAIRS_VERIFIED, pairs),
    ))


@task(name="check-quotes", cache_policy=NO_CACHE)
def check_quotes(
    store: QuoteStore, min_words: int, indexed: Callable[[], None] = lambda: None
) -> BatchReport:
    """Find quotations in new or edited seeds, index new pages, check changed citations."""
    return update_quotes(store, min_words, now(), indexed)
