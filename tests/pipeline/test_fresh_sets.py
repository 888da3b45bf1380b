"""Verification reuses the shingle sets computed when signing (issue 20): same pairs, no re-read."""

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import numpy as np

from dedup import MinHashParams
from extractors.records import ExtractedDocument
from pipeline.dedup_step import save_and_verify, sign_batch, verify_new
from pipeline.shingle_cache import ShingleCache
from storage.dedup_store import DedupStore
from storage.records import DocumentRow
from storage.schema import migrate
from storage.store import Store

AT = datetime(2026, 1, 1, tzinfo=UTC)
# Distinct letter words (digits normalize to one "0", so numbered words would all be alike).
WORDS = ["".join(chr(97 + (i * 7 + k * 3) % 26) for k in range(3 + i % 4)) + chr(97 + i % 26)
         for i in range(400)]
BASE = " ".join(WORDS[:300])
TEXTS = {
    1: BASE,
    2: BASE.replace(f" {WORDS[5]} ", " changed "),
    3: BASE.replace(f" {WORDS[50]} ", " other ").replace(f" {WORDS[90]} ", " another "),
    4: " ".join(reversed(WORDS)),
    5: BASE,  # an exact duplicate of 1
}


def stored(texts: dict[int, str]) -> DedupStore:
    con = duckdb.connect(":memory:")
    migrate(con)
    store = Store(con)
    with store.transaction():
        for doc_id, text in texts.items():
            store.save_document(DocumentRow(
                doc_id=doc_id, kind="page", url=f"https://a.example/{doc_id}", extracted_at=AT,
                extractor="test", extractor_version="1", content=ExtractedDocument(text=text),
            ), [], [])
    return DedupStore(con)


def pairs(dstore: DedupStore) -> list[tuple[int, int, float, bool]]:
    rows = dstore.con.execute(
        "SELECT * EXCLUDE (found_at) FROM duplicate_pairs ORDER BY ALL"
    ).fetchall()
    return [(int(a), int(b), float(j), bool(e)) for a, b, j, e in rows]


class Reads:
    """Records which documents' texts verification reads from the store."""

    def __init__(self, dstore: DedupStore) -> None:
        self.ids: list[int] = []
        self._texts = dstore.texts

        def texts(doc_ids: Sequence[int]) -> dict[int, str]:
            self.ids.extend(doc_ids)
            return self._texts(doc_ids)

        dstore.texts = texts  # type: ignore[method-assign]


def test_fresh_sets_give_the_same_pairs_without_reading_the_batch_again() -> None:
    params = MinHashParams()
    reference, reused = stored(TEXTS), stored(TEXTS)
    ids = sorted(TEXTS)
    rows = reference.rows_to_sign(ids)

    with reference.transaction():
        reference.save_signatures(sign_batch(rows, params).batch, AT)
        verify_new(reference, ids, params, AT)

    reads, cache = Reads(reused), ShingleCache()
    signed = sign_batch(reused.rows_to_sign(ids), params)
    assert save_and_verify(reused, signed, params, AT, cache)[0] == len(ids)

    assert pairs(reused) == pairs(reference)
    assert {(a, b) for a, b, *_ in pairs(reused)} >= {(1, 2), (1, 5), (2, 5)}
    assert reads.ids == []  # every set came from signing
    for doc_id, shingles in zip(signed.batch.doc_ids, signed.sets, strict=True):
        if doc_id != 4:  # 4 has no candidate, so verification never needed its set
            cached = cache.get(doc_id)
            assert cached is not None and np.array_equal(cached, shingles)


def test_sets_follow_the_batch_order() -> None:
    params = MinHashParams()
    dstore = stored(TEXTS)
    signed = sign_batch(dstore.rows_to_sign([3, 1]), params)
    alone = {d: sign_batch(dstore.rows_to_sign([d]), params).sets[0] for d in (1, 3)}
    for doc_id, shingles in zip(signed.batch.doc_ids, signed.sets, strict=True):
        assert np.array_equal(shingles, alone[doc_id])
