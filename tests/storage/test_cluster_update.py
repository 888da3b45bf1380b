"""storage/cluster_store.py and pipeline/dedup_step.update_clusters: incremental equals rebuilt.

Hypothesis draws sequences of the writes that change pairs (pairs added, re-verified with
another Jaccard, a document re-signed or its text replaced, which drops its pairs) and of
threshold changes, on a real DuckDB store. After each cluster update the clusters table,
canonical documents included, must equal `dedup.cluster` over every stored pair.
"""

import os
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import DocInfo, cluster
from pipeline.dedup_step import update_clusters
from storage.dedup_store import DedupStore, PairRow, SignatureBatch
from storage.schema import migrate

AT = datetime(2026, 1, 1, tzinfo=UTC)
DOCS = 14

Op = tuple[str, int, int, float]
ops = st.one_of(
    st.tuples(st.just("pair"), st.integers(1, DOCS), st.integers(1, DOCS),
              st.sampled_from([0.55, 0.7, 0.8, 0.85, 1.0])),
    st.tuples(st.just("resign"), st.integers(1, DOCS), st.just(0), st.just(0.0)),
    st.tuples(st.just("forget"), st.integers(1, DOCS), st.just(0), st.just(0.0)),
    st.tuples(st.just("update"), st.just(0), st.just(0), st.sampled_from([0.8, 0.8, 0.8, 0.7])),
)


def store_with_documents() -> DedupStore:
    """A store of DOCS documents whose canonical keys tie often (few first-seen times, lengths)."""
    con = duckdb.connect(":memory:")
    migrate(con)
    for i in range(1, DOCS + 1):
        con.execute(
            "INSERT INTO documents (doc_id, kind, url, text, text_chars, content_sha256, "
            "extractor, extractor_version, first_seen, extracted_at) "
            "VALUES (?, 'page', ?, 'x', ?, ?, 'test', '1', ?, ?)",
            [i, f"https://example.test/{i % 5}/{i}", 100 * (i % 3), f"{i:064x}",
             AT + timedelta(days=i % 4), AT],
        )
    return DedupStore(con)


def resign(dstore: DedupStore, doc_id: int) -> None:
    """Store a new signature for `doc_id`, which drops its pairs as a changed text does."""
    dstore.save_signatures(SignatureBatch(
        doc_ids=[doc_id], content_sha256=[f"{doc_id:064x}"], norm_content_hashes=[doc_id],
        shingle_counts=[1], signatures=np.zeros((1, 4), dtype=np.uint64),
        band_keys=np.zeros((1, 2), dtype=np.uint64), scheme="affine32", seed=1,
        shingle_size=5, params_fingerprint=0,
    ), AT)


def rebuilt(dstore: DedupStore, threshold: float) -> list[tuple[int, int, int, bool]]:
    """The clusters a rebuild from every stored pair makes."""
    pairs = dstore.pairs_at(threshold)
    ids = sorted({d for p in pairs for d in (p.doc_a, p.doc_b)})
    docs = [DocInfo(f.doc_id, f.first_seen, f.text_chars, f.url) for f in dstore.doc_facts(ids)]
    return [(m.doc_id, m.cluster_id, m.canonical_doc_id, m.is_canonical)
            for m in cluster(pairs, docs)]


def stored(dstore: DedupStore) -> list[tuple[int, int, int, bool]]:
    """The clusters table."""
    rows = dstore.con.execute(
        "SELECT doc_id, cluster_id, canonical_doc_id, is_canonical FROM clusters "
        "ORDER BY cluster_id, doc_id"
    ).fetchall()
    return [(int(a), int(b), int(c), bool(d)) for a, b, c, d in rows]


def apply(dstore: DedupStore, op: Op) -> None:
    """One write of a run."""
    kind, a, b, jaccard = op
    if kind == "pair" and a != b:
        dstore.save_pairs([PairRow(min(a, b), max(a, b), jaccard, jaccard == 1.0)], AT)
    elif kind == "resign":
        resign(dstore, a)
    elif kind == "forget":
        dstore.forget_documents([a])


@settings(max_examples=int(os.environ.get("RECITE_HYPOTHESIS_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(script=st.lists(ops, min_size=1, max_size=40))
def test_incremental_clusters_equal_a_rebuild(script: list[Op]) -> None:
    dstore = store_with_documents()
    threshold = 0.8
    for op in [*script, ("update", 0, 0, 0.8)]:
        if op[0] == "update":
            threshold = op[3]
            update_clusters(dstore, threshold, AT)
            assert stored(dstore) == rebuilt(dstore, threshold), script
            assert dstore.con.execute("SELECT count(*) FROM cluster_dirty").fetchall() == [(0,)]
        else:
            apply(dstore, op)


def test_a_split_cluster_is_re_clustered_and_others_are_left_alone() -> None:
    dstore = store_with_documents()
    for a, b in ((1, 2), (2, 3), (5, 6)):
        apply(dstore, ("pair", a, b, 0.9))
    update_clusters(dstore, 0.8, AT)
    before = {r[0]: r for r in stored(dstore)}
    dstore.forget_documents([2])  # 1 and 3 were joined only through 2
    update_clusters(dstore, 0.8, AT)
    after = {r[0]: r for r in stored(dstore)}
    assert set(after) == {5, 6}
    assert after[5] == before[5] and after[6] == before[6]


def test_only_the_changed_components_are_read() -> None:
    """The update touches the region of the change: a cluster elsewhere is not rewritten."""
    dstore = store_with_documents()
    for a, b in ((1, 2), (5, 6)):
        apply(dstore, ("pair", a, b, 0.9))
    update_clusters(dstore, 0.8, AT)
    # A stale row planted in the untouched cluster survives: the update never rewrote it.
    dstore.con.execute("UPDATE clusters SET is_canonical = NOT is_canonical WHERE doc_id = 5")
    apply(dstore, ("pair", 2, 3, 0.9))
    update_clusters(dstore, 0.8, AT)
    rows = {r[0]: r for r in stored(dstore)}
    assert {1, 2, 3} <= set(rows) and rows[5][3] != (rows[5][2] == 5)
