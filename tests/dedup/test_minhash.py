"""Vectorized signatures are exactly datasketch 2.0's hashvalues."""

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash

from dedup.minhash import (
    _CHUNK_COLUMNS,
    MinHashParams,
    datasketch_hashfunc,
    empty_signature,
    is_empty_signature,
    signatures,
    to_lean_minhash,
)
from dedup.shingles import shingle_hashes, shingles

from .seed_001 import SEED_001


def _spelled(number: int) -> str:
    """The number with its digits as letters a-j (a word, not a number, once normalized)."""
    return "".join(chr(ord("a") + int(d)) for d in str(number))


TEXTS = [
    SEED_001,
    "",
    "one",
    "Similar Posts",
    "北京欢迎你。东京都は新しい政策を発表した。",
    # Larger than one permutation chunk: 5,000 distinct shingles (with
    # digits, f"w{i}" would normalize to one word "w0" and one shingle).
    " ".join(_spelled(i % 5000) for i in range(50_000)),
    "Kommentare sind geschlossen.",
]


def _datasketch(text: str, params: MinHashParams) -> MinHash:
    m = MinHash(
        num_perm=params.num_perm,
        seed=params.seed,
        scheme=params.scheme,
        hashfunc=datasketch_hashfunc(params),
    )
    m.update_batch(shingles(text, params.shingle_size))
    return m


@pytest.mark.parametrize(
    "params",
    [
        MinHashParams(),
        MinHashParams(scheme="affine64"),
        MinHashParams(num_perm=64, seed=7, bands=12, rows=5),
        MinHashParams(shingle_size=3),
    ],
    ids=["default", "affine64", "perm64-seed7", "k3"],
)
def test_signatures_equal_datasketch(params: MinHashParams) -> None:
    sets = [shingle_hashes(t, params.shingle_size) for t in TEXTS]
    sigs = signatures(sets, params)
    assert sigs.shape == (len(TEXTS), params.num_perm)
    for text, row in zip(TEXTS, sigs, strict=True):
        expected = _datasketch(text, params).hashvalues
        assert row.dtype == expected.dtype
        assert np.array_equal(row, expected)


def test_batching_does_not_change_results() -> None:
    params = MinHashParams()
    sets = [shingle_hashes(t) for t in TEXTS]
    together = signatures(sets, params)
    one_by_one = np.stack([signatures([s], params)[0] for s in sets])
    assert np.array_equal(together, one_by_one)


def test_documents_around_the_chunk_size_equal_datasketch() -> None:
    # Sets of exactly, just under and just over one permutation chunk, and
    # many small ones that fill several chunks (distinct words make each
    # 5-gram distinct, so a text of n + 4 words has n shingles; digits
    # would all normalize to 0, so numbers are spelled with letters).
    params = MinHashParams()
    sizes = [_CHUNK_COLUMNS - 1, _CHUNK_COLUMNS, _CHUNK_COLUMNS + 1, 1, *[700 + i for i in range(20)]]
    texts = [" ".join(_spelled(j) for j in range(n + 4)) for n in sizes]
    sets = [shingle_hashes(t) for t in texts]
    assert [s.size for s in sets] == sizes
    sigs = signatures(sets, params)
    for text, row in zip(texts, sigs, strict=True):
        assert np.array_equal(row, _datasketch(text, params).hashvalues)


def test_empty_document_signature() -> None:
    params = MinHashParams()
    sig = signatures([np.empty(0, dtype=np.uint64)], params)
    assert np.array_equal(sig[0], empty_signature(params))
    assert np.array_equal(sig[0], MinHash(num_perm=128, seed=1).hashvalues)  # datasketch's empty
    assert is_empty_signature(sig, params).tolist() == [True]


def test_lean_minhash_names_scheme_and_estimates() -> None:
    params = MinHashParams(scheme="affine64")
    sigs = signatures([shingle_hashes(SEED_001), shingle_hashes(SEED_001 + " extra words")], params)
    lean = to_lean_minhash(sigs[0], params)
    assert isinstance(lean, LeanMinHash)
    assert lean.scheme == "affine64" and lean.seed == params.seed
    assert lean.jaccard(to_lean_minhash(sigs[1], params)) > 0.9
    # Datasketch refuses to compare it with another scheme, as it should.
    with pytest.raises(ValueError, match="scheme"):
        lean.jaccard(_datasketch(SEED_001, MinHashParams()))


def test_golden_signature_prefix() -> None:
    # Stored signatures and band keys depend on these exact values.
    sig = signatures(
        [shingle_hashes("the quick brown fox jumps over the lazy dog")], MinHashParams()
    )
    assert sig[0, :4].tolist() == [18972069, 389375998, 506233060, 1307568093]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scheme": "legacy"},
        {"bands": 30, "rows": 5},
        {"num_perm": 0},
        {"shingle_size": 0},
    ],
)
def test_bad_params_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MinHashParams(**kwargs)  # type: ignore[arg-type]


def test_to_lean_minhash_checks_shape() -> None:
    with pytest.raises(ValueError, match="shape"):
        to_lean_minhash(np.zeros(5, dtype=np.uint32), MinHashParams())
