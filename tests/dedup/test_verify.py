"""Verification: exact Jaccard, false candidates rejected, exact duplicates."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.shingles import shingle_hashes
from dedup.verify import (
    DuplicatePair,
    content_hash,
    jaccard,
    verify,
)

from .seed_001 import SEED_001


def _set(values: set[int]) -> np.ndarray:
    return np.array(sorted(values), dtype=np.uint64)


@given(st.sets(st.integers(0, 60)), st.sets(st.integers(0, 60)))
def test_jaccard_matches_python_sets(a: set[int], b: set[int]) -> None:
    expected = len(a & b) / len(a | b) if a and b else 0.0
    assert jaccard(_set(a), _set(b)) == expected


def test_verification_rejects_a_false_candidate() -> None:
    sets = {
        1: shingle_hashes(SEED_001),
        2: shingle_hashes(SEED_001.replace("Borrell", "He", 3)),  # light edit: J ~ 0.9
        3: shingle_hashes("Kommentare sind geschlossen. Similar posts, related stories."),
    }
    pairs = verify([(2, 1), (1, 3), (3, 2), (1, 2)], sets, threshold=0.8)
    assert [(p.doc_a, p.doc_b) for p in pairs] == [(1, 2)]
    assert 0.8 <= pairs[0].jaccard < 1.0


def test_verify_rejects_pair_just_below_threshold() -> None:
    a = _set(set(range(100)))
    b = _set(set(range(21, 121)))  # 79 common of 121: J = 0.653
    c = _set(set(range(10, 110)))  # with a: 90 / 110 = 0.818
    pairs = verify([(1, 2), (1, 3)], {1: a, 2: b, 3: c}, 0.8)
    assert pairs == [DuplicatePair(1, 3, 90 / 110)]


def test_empty_documents_are_never_duplicates() -> None:
    empty = np.empty(0, dtype=np.uint64)
    assert verify([(1, 2)], {1: empty, 2: empty}, 0.8) == []
    assert jaccard(empty, empty) == 0.0


def test_exact_duplicates_are_pairs_with_jaccard_one() -> None:
    # Found by their content hash (tests/storage/test_dedup_store.py); verification agrees:
    # equal normalized text, equal shingle sets.
    assert content_hash(SEED_001) == content_hash(SEED_001.upper())
    sets = {5: shingle_hashes(SEED_001), 2: shingle_hashes(SEED_001.upper())}
    assert verify([(5, 2)], sets) == [DuplicatePair(2, 5, 1.0)]


@pytest.mark.parametrize("threshold", [0.0, 1.5])
def test_bad_threshold_is_rejected(threshold: float) -> None:
    # Was MinHashParams(threshold=0.0): the Jaccard a pair needs is verify's parameter now.
    with pytest.raises(ValueError, match="threshold"):
        verify([], {}, threshold)


def test_pair_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        DuplicatePair(3, 2, 0.9)
