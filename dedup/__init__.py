"""recite: dedup.

Near-duplicate documents and repeated passages, as a plain library (numpy and
datasketch; no Prefect, no DuckDB, nothing else of recite):

normalize -> shingles -> minhash signatures -> lsh band keys -> candidate
pairs -> verify (exact Jaccard) -> cluster; passage keys for repeated paragraphs
(the repeat and boilerplate rules are the stored path: pipeline/dedup_step.py and
the views of storage/schema.py). See each module's docstring for the rules and
their reasons.
"""

from dedup.cluster import ClusterMember, DocInfo, canonical_key, cluster
from dedup.lsh import (
    EMPTY_BAND_KEY,
    band_keys,
    candidate_probability,
    choose_banding,
)
from dedup.minhash import (
    MinHashParams,
    datasketch_hashfunc,
    signatures,
    to_lean_minhash,
)
from dedup.normalize import normalize, tokenize
from dedup.passages import (
    MIN_PASSAGE_TOKENS,
    NEAR_REPEAT_JACCARD,
    PASSAGE_PARAMS,
    counts_for_repeats,
    keys_and_content_hash,
    passage_hash,
    passage_key,
)
from dedup.shingles import shingle_hash, shingle_hash_sets, shingle_hashes, shingles
from dedup.verify import (
    NEAR_DUPLICATE_JACCARD,
    DuplicatePair,
    content_hash,
    jaccard,
    verify,
)

__all__ = [
    "EMPTY_BAND_KEY",
    "MIN_PASSAGE_TOKENS",
    "NEAR_DUPLICATE_JACCARD",
    "NEAR_REPEAT_JACCARD",
    "PASSAGE_PARAMS",
    "ClusterMember",
    "DocInfo",
    "DuplicatePair",
    "MinHashParams",
    "band_keys",
    "candidate_probability",
    "canonical_key",
    "choose_banding",
    "cluster",
    "content_hash",
    "counts_for_repeats",
    "datasketch_hashfunc",
    "jaccard",
    "keys_and_content_hash",
    "normalize",
    "passage_hash",
    "passage_key",
    "shingle_hash",
    "shingle_hash_sets",
    "shingle_hashes",
    "shingles",
    "signatures",
    "to_lean_minhash",
    "tokenize",
    "verify",
]
