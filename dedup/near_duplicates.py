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
from dedup.verify import DuplicatePair, verify

DEFAULT_PARAMS = MinHashParams()


def find_near_duplicates(
    texts: Mapping[int, str], params: MinHashParams = DEFAULT_PARAMS
) -> list[DuplicatePair]:
    """Return the verified pairs (Jaccard >= params.threshold) among `texts`, keyed by doc id."""
    ids = list(texts)
    sets = shingle_hash_sets([texts[doc_id] for doc_id in ids], params.shingle_size)
    keys = band_keys(signatures(sets, params), params)
    no_old = np.empty((0, params.bands), dtype=np.uint64)
    candidates = candidate_pairs(keys, ids, no_old, [])
    return verify(candidates, dict(zip(ids, sets, strict=True)), params.threshold)
