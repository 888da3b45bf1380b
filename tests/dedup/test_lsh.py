"""Banding choice, band keys and in-memory candidate pairs."""

import numpy as np
import pytest

from dedup.lsh import (
    EMPTY_BAND_KEY,
    band_keys,
    candidate_pairs,
    candidate_probability,
    choose_banding,
)
from dedup.minhash import MinHashParams, signatures
from dedup.shingles import shingle_hashes
from dedup.verify import NEAR_DUPLICATE_JACCARD

from .seed_001 import SEED_001


def test_default_banding_is_the_documented_choice() -> None:
    params = MinHashParams()
    assert (params.bands, params.rows) == choose_banding(params.num_perm, NEAR_DUPLICATE_JACCARD)
    assert (params.bands, params.rows) == (21, 6)
    assert candidate_probability(0.8, params.bands, params.rows) >= 0.99
    assert candidate_probability(0.9, params.bands, params.rows) >= 0.9999


def test_choose_banding_meets_recall_with_the_largest_rows() -> None:
    _, rows = choose_banding(128, 0.8, 0.99)
    # One more row would miss the recall target even with all bands.
    assert candidate_probability(0.8, 128 // (rows + 1), rows + 1) < 0.99
    with pytest.raises(ValueError):
        choose_banding(4, 0.1, 0.9999)


def _keys(texts: list[str], params: MinHashParams | None = None) -> np.ndarray:
    p = params or MinHashParams()
    return band_keys(signatures([shingle_hashes(t) for t in texts], p), p)


def test_band_keys_shape_dtype_and_determinism() -> None:
    keys = _keys([SEED_001, "a b c d e f g"])
    assert keys.shape == (2, 21) and keys.dtype == np.uint64
    assert np.array_equal(keys, _keys([SEED_001, "a b c d e f g"]))
    assert np.all(keys != EMPTY_BAND_KEY)


def test_band_keys_depend_on_parameters() -> None:
    default = _keys([SEED_001])
    other_seed = _keys([SEED_001], MinHashParams(seed=2))
    assert not np.any(np.isin(default, other_seed))


def test_identical_bands_in_different_positions_get_different_keys() -> None:
    params = MinHashParams(num_perm=4, bands=2, rows=2)
    sigs = np.array([[1, 2, 1, 2]], dtype=np.uint32)
    keys = band_keys(sigs, params)
    assert keys[0, 0] != keys[0, 1]


def test_empty_documents_get_the_reserved_key_and_never_pair() -> None:
    keys = _keys(["", "", SEED_001])
    assert np.all(keys[:2] == EMPTY_BAND_KEY)
    assert candidate_pairs(keys, [1, 2, 3], keys[:0], []) == set()


def test_candidate_pairs_new_new_and_new_old_but_not_old_old() -> None:
    a = SEED_001
    b = SEED_001.replace("Borrell stressed", "Borrell insisted", 1)
    keys = _keys([a, b, a, "something else entirely, not like the others at all"])
    old = keys[:2]
    new = keys[2:]
    pairs = candidate_pairs(new, [30, 40], old, [10, 20])
    assert (10, 30) in pairs and (20, 30) in pairs
    assert (10, 20) not in pairs  # both old: found in an earlier run
    assert all(40 not in p for p in pairs)


def test_candidate_pairs_are_ordered_and_skip_self() -> None:
    keys = _keys([SEED_001, SEED_001])
    assert candidate_pairs(keys, [9, 3], keys[:0], []) == {(3, 9)}
    # The same id as new and old (a re-extracted document) is not its own pair.
    assert candidate_pairs(keys[:1], [5], keys[:1], [5]) == set()


def test_candidate_pairs_checks_shapes() -> None:
    keys = _keys([SEED_001])
    with pytest.raises(ValueError):
        candidate_pairs(keys, [1, 2], keys[:0], [])


def test_candidate_pairs_equal_brute_force() -> None:
    rng = np.random.default_rng(5)
    # Few distinct keys, so that many rows collide; 0 is the reserved key.
    new = rng.integers(0, 6, size=(30, 4)).astype(np.uint64)
    old = rng.integers(0, 6, size=(50, 4)).astype(np.uint64)
    new_ids = list(range(100, 130))
    old_ids = list(range(50))
    expected = set()
    rows = [(i, r, True) for i, r in zip(new_ids, new, strict=True)] + [
        (i, r, False) for i, r in zip(old_ids, old, strict=True)
    ]
    for x in range(len(rows)):
        for y in range(x + 1, len(rows)):
            (a, ra, na), (b, rb, nb) = rows[x], rows[y]
            if (na or nb) and np.any((ra == rb) & (ra != EMPTY_BAND_KEY)):
                expected.add((min(a, b), max(a, b)))
    assert candidate_pairs(new, new_ids, old, old_ids) == expected
