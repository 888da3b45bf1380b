"""Incremental equals fresh, explored by hypothesis over edit scripts, without Prefect or HTTP.

The same store and dedup functions the flow's tasks wrap (Store.save_documents,
dedup_batch, update_clusters, index_passages) run night by night over the pages of
a `ChangingSite` into one DuckDB database; a second database gets only the final pages.
Every derived table must match (tests/flows/nightly.py). Hypothesis draws the script's
seed, the number of nights and the batch size, and shrinks a failure to a small one.
"""

import os
from datetime import UTC, datetime, timedelta

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.lsh import params_fingerprint
from extractors.passages import split_passages
from extractors.records import ExtractedDocument
from pipeline.dedup_step import DedupConfig, dedup_batch, index_passages, update_clusters
from pipeline.steps import passage_keys
from storage.dedup_store import DedupStore
from storage.records import DocumentRow, document_id
from storage.schema import migrate
from storage.store import Store
from tests.changing_site import BOILERPLATE, ChangingSite
from tests.flows.nightly import differences, state

CONFIG = DedupConfig()


def night(con: duckdb.DuckDBPyConnection, site: ChangingSite, at: datetime, batch: int) -> None:
    """Store the site's pages as one night's run would, then run every dedup step."""
    docs = [
        DocumentRow(
            doc_id=document_id("page", path), kind="page", url=f"http://site.test{path}",
            extracted_at=at, extractor="test", extractor_version="1",
            content=ExtractedDocument(
                text="\n".join([page.title, *page.paragraphs, BOILERPLATE]), title=page.title,
                hostname="site.test",
            ),
        )
        for path, page in sorted(site.pages.items())
    ]
    store, dstore = Store(con), DedupStore(con)
    for start in range(0, len(docs), batch):
        chunk = docs[start : start + batch]
        passages = [split_passages(d.content.text) for d in chunk]
        with store.transaction():
            store.save_documents(chunk, passages, [passage_keys(p) for p in passages])
    pending = dstore.documents_to_index(params_fingerprint(CONFIG.params))
    for start in range(0, len(pending), batch):
        dedup_batch(dstore, pending[start : start + batch], CONFIG.params, at)
    update_clusters(dstore, CONFIG.dedup_threshold, at)
    index_passages(dstore, at, batch=batch)


def fresh_database() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    migrate(con)
    return con


@settings(max_examples=int(os.environ.get("RECITE_HYPOTHESIS_EXAMPLES", "10")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), nights=st.integers(2, 7), batch=st.integers(1, 6))
def test_incremental_equals_fresh(seed: int, nights: int, batch: int) -> None:
    site = ChangingSite.create(seed, families=2, copies=2, singles=3)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    incremental = fresh_database()
    for n in range(nights):
        if n:
            site.advance()
        night(incremental, site, start + timedelta(days=n), batch)
    fresh = fresh_database()
    night(fresh, site, start + timedelta(days=nights), batch)
    assert differences(state(incremental), state(fresh)) == {}, site.log
