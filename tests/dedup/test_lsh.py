"""Banding choice, band keys and in-memory candidate pairs."""

import numpy as np
import pytest

from dedup.lsh import (
    EMPTY_BAND_KEY,
    band_keys,
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


def test_empty_documents_get_the_reserved_key() -> None:
    # That they never pair: tests/storage/test_dedup_store.py, over the stored join.
    keys = _keys(["", "", SEED_001])
    assert np.all(keys[:2] == EMPTY_BAND_KEY)
    assert np.all(keys[2] != EMPTY_BAND_KEY)
