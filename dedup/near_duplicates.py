"""In-memory near-duplicate search: shingles, signatures, bands, candidates, verification.

The nightly flow runs the same steps with the band keys stored in DuckDB (so
that new documents are compared with old ones without rebuilding anything);
this module strings them together for a batch held in memory: notebooks,
tests and benchmarks.
"""

from collections.abc import Mapping

import numpy as np

from dedup.lsh import band_keys, candidate_pairs
from dedup.minhash import MinHashParams, signatures
from dedup.shingles import shingle_hash_sets
from dedup.verify import NEAR_DUPLICATE_JACCARD, DuplicatePair, verify

DEFAULT_PARAMS = MinHashParams()


def find_near_duplicates(
    texts: Mapping[int, str],
    params: MinHashParams = DEFAULT_PARAMS,
    min_jaccard: float = NEAR_DUPLICATE_JACCARD,
) -> list[DuplicatePair]:
    """Return the verified pairs (exact Jaccard >= min_jaccard) among `texts`, by doc id."""
    ids = list(texts)
    sets = shingle_hash_sets([texts[doc_id] for doc_id in ids], params.shingle_size)
    keys = band_keys(signatures(sets, params), params)
    no_old = np.empty((0, params.bands), dtype=np.uint64)
    candidates = candidate_pairs(keys, ids, no_old, [])
    return verify(candidates, dict(zip(ids, sets, strict=True)), min_jaccard)
