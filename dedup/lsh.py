"""Banded LSH over MinHash signatures (Leskovec, Rajaraman, Ullman, *Mining of
Massive Datasets*, ch. 3.4), tuned for recall at Jaccard 0.8.

A signature of b x r values is cut into b bands of r rows. Two documents are
candidates when they agree on all r rows of at least one band; for a pair of
Jaccard similarity s that happens with probability ``1 - (1 - s**r)**b``
(the "S-curve").

Choice of b x r (`choose_banding`): candidates are cheap because every one is
verified on the exact shingle sets (`dedup.verify`), while a missed pair is
lost for good. So the rule is recall first: take the largest r for which
some b <= num_perm // r gives P(candidate) >= 0.99 at the threshold, then use
all the bands that fit (b = num_perm // r: more bands only add recall, and
the permutations are computed anyway). For 128 permutations and threshold
0.8 this gives **21 bands x 6 rows** (126 values used): P(candidate) is
0.9983 at s = 0.8, 0.99995 at s = 0.85 and ~1 above 0.9; it is 0.63 at
s = 0.6 and 0.28 at s = 0.5, which is the price, paid in verification time.
For comparison, datasketch's ``optimal_param(0.8, 128)`` gives 9 x 13 with
equal weights (P = 0.40 at 0.8) and 18 x 7 even with a false-negative weight
of 0.99 (P = 0.986 at 0.8), short of the 0.99 target.

Band keys (`band_keys`) are 64-bit hashes of a band's r values, seeded with
the band index and a fingerprint of the parameters (num_perm, seed, scheme,
bands, rows): keys are meant to be stored (a DuckDB table of (doc, band,
key)) and joined on key between runs, so that the index survives between
runs, and keys made under other parameters never join. The key 0 is
reserved: it marks the bands of an empty document, which must never match
anything, and a real band hash that comes out 0 is mapped to 1.

The candidate join itself runs in SQL over the stored keys
(`storage.dedup_store.DedupStore.candidate_pairs`). Cost: a band bucket shared by b
documents yields b*(b-1)/2 pairs, so exact copies (which share every bucket) are
joined on their normalized content hash instead (`DedupStore.exact_pairs`).
"""


import numpy as np

from dedup.hashing import SEQUENCE_BASE, U64Array, fmix64, fmix64_int, text_hash
from dedup.minhash import MinHashParams, Signatures, is_empty_signature

EMPTY_BAND_KEY = 0
DEFAULT_MIN_RECALL = 0.99


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Return the S-curve 1 - (1 - s**rows)**bands: P(a pair of Jaccard s is a candidate)."""
    return float(1.0 - (1.0 - similarity**rows) ** bands)


def choose_banding(
    num_perm: int, threshold: float, min_recall: float = DEFAULT_MIN_RECALL
) -> tuple[int, int]:
    """Return (bands, rows): the largest rows reaching `min_recall` at `threshold`, all bands."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= min_recall:
            return bands, rows
    raise ValueError(f"no banding of {num_perm} permutations reaches {min_recall} at {threshold}")


def params_fingerprint(params: MinHashParams) -> int:
    """Return a 64-bit fingerprint of the parameters that shape signatures and bands."""
    # The shingle size does not change how a signature maps to keys.
    described = f"{params.num_perm}:{params.seed}:{params.scheme}:{params.bands}:{params.rows}"
    return text_hash(described) & ((1 << 64) - 1)


def band_keys(signatures: Signatures, params: MinHashParams) -> U64Array:
    """Return the (n x bands) uint64 band keys of (n x num_perm) signatures; 0 for empty docs."""
    if signatures.ndim != 2 or signatures.shape[1] != params.num_perm:
        raise ValueError(
            f"expected signatures of shape (n, {params.num_perm}), got {signatures.shape}"
        )
    n = signatures.shape[0]
    used = params.bands * params.rows
    values = signatures[:, :used].astype(np.uint64).reshape(n, params.bands, params.rows)
    base = fmix64_int(params_fingerprint(params))
    seeds = np.array([fmix64_int(base + band) for band in range(params.bands)], dtype=np.uint64)
    keys = np.broadcast_to(seeds, (n, params.bands)).copy()
    multiplier = np.uint64(SEQUENCE_BASE)
    for row in range(params.rows):
        keys *= multiplier
        keys += values[:, :, row]
    keys = fmix64(keys)
    keys[keys == np.uint64(EMPTY_BAND_KEY)] = np.uint64(1)
    keys[is_empty_signature(signatures, params)] = np.uint64(EMPTY_BAND_KEY)
    return keys
