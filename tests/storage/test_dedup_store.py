"""storage/dedup_store.py: the band join a run probes its new documents with.

These were the tests of the in-memory `dedup.lsh.candidate_pairs`, which no run used;
they now hold the SQL join of `DedupStore.candidate_pairs` to the same rules: new-new and
new-old pairs but not old-old, ordered, no self pairs, the empty key never pairs.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import duckdb
import numpy as np
import pytest

from dedup import EMPTY_BAND_KEY, MinHashParams, band_keys, shingle_hash_sets, signatures
from pipeline.dedup_step import sign_batch
from storage.dedup_store import DedupStore
from storage.schema import migrate
from tests.dedup.seed_001 import SEED_001

U64 = np.ndarray


@pytest.fixture
def dstore() -> Iterator[DedupStore]:
    con = duckdb.connect(":memory:")
    migrate(con)
    yield DedupStore(con)
    con.close()


def store_keys(dstore: DedupStore, ids: list[int], keys: U64) -> None:
    """Store each document's band keys, as save_signatures does."""
    rows = [(i, band, int(k)) for i, row in zip(ids, keys, strict=True) for band, k in enumerate(row)]
    if rows:
        dstore.con.executemany("INSERT INTO doc_bands VALUES (?, ?, ?)", rows)


def _keys(texts: list[str]) -> U64:
    params = MinHashParams()
    return band_keys(signatures(shingle_hash_sets(texts, params.shingle_size), params), params)


def test_empty_documents_get_the_reserved_key_and_never_pair(dstore: DedupStore) -> None:
    keys = _keys(["", "", SEED_001])
    assert np.all(keys[:2] == EMPTY_BAND_KEY)
    store_keys(dstore, [1, 2, 3], keys)
    assert dstore.candidate_pairs([1, 2, 3]) == []


def test_new_new_and_new_old_pairs_but_not_old_old(dstore: DedupStore) -> None:
    a = SEED_001
    b = SEED_001.replace("Borrell stressed", "Borrell insisted", 1)
    keys = _keys([a, b, a, "something else entirely, not like the others at all"])
    store_keys(dstore, [10, 20, 30, 40], keys)
    pairs = set(dstore.candidate_pairs([30, 40]))  # 10 and 20 were stored by an earlier run
    assert (10, 30) in pairs and (20, 30) in pairs
    assert (10, 20) not in pairs  # both old: found in an earlier run
    assert all(40 not in p for p in pairs)


def test_pairs_are_ordered_distinct_and_skip_self(dstore: DedupStore) -> None:
    store_keys(dstore, [9, 3], _keys([SEED_001, SEED_001]))
    assert dstore.candidate_pairs([9, 3]) == [(3, 9)]  # once, though all bands match
    assert dstore.candidate_pairs([]) == []


def test_candidate_pairs_equal_brute_force(dstore: DedupStore) -> None:
    rng = np.random.default_rng(5)
    # Few distinct keys, so that many rows collide; 0 is the reserved key.
    new = rng.integers(0, 6, size=(30, 4)).astype(np.uint64)
    old = rng.integers(0, 6, size=(50, 4)).astype(np.uint64)
    new_ids = list(range(100, 130))
    old_ids = list(range(50))
    store_keys(dstore, new_ids + old_ids, np.concatenate((new, old)))
    expected = set()
    rows = [(i, r, True) for i, r in zip(new_ids, new, strict=True)] + [
        (i, r, False) for i, r in zip(old_ids, old, strict=True)
    ]
    for x in range(len(rows)):
        for y in range(x + 1, len(rows)):
            (a, ra, na), (b, rb, nb) = rows[x], rows[y]
            if (na or nb) and np.any((ra == rb) & (ra != EMPTY_BAND_KEY)):
                expected.add((min(a, b), max(a, b)))
    found = dstore.candidate_pairs(new_ids)
    assert len(found) == len(set(found))
    assert set(found) == expected


def test_exact_pairs_are_equal_normalized_texts_and_never_empty_ones(dstore: DedupStore) -> None:
    # Was the in-memory `exact_duplicate_pairs`; the same cases through the run's signing.
    texts = {
        5: SEED_001,
        2: SEED_001.upper(),  # same normalized content
        9: "different",
        7: "",
        8: "  ",
    }
    rows = [(i, f"sha-{i}", t) for i, t in texts.items()]
    dstore.save_signatures(sign_batch(rows, MinHashParams()).batch, datetime(2026, 1, 1, tzinfo=UTC))
    assert dstore.exact_pairs(list(texts)) == [(2, 5)]
