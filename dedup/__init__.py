"""recite: dedup.

Near-duplicate documents and repeated passages, as a plain library (numpy and
datasketch; no Prefect, no DuckDB, nothing else of recite):

normalize -> shingles -> minhash signatures -> lsh band keys -> candidate
pairs -> verify (exact Jaccard) -> cluster; passages for repeated paragraphs
and boilerplate. See each module's docstring for the rules and their reasons.
"""

from dedup.cluster import ClusterMember, DocInfo, canonical_key, cluster
from dedup.lsh import (
    EMPTY_BAND_KEY,
    band_keys,
    candidate_pairs,
    candidate_probability,
    choose_banding,
)
from dedup.minhash import (
    MinHashParams,
    datasketch_hashfunc,
    signatures,
    to_lean_minhash,
)
from dedup.near_duplicates import find_near_duplicates
from dedup.normalize import normalize, tokenize
from dedup.passages import (
    MIN_PASSAGE_TOKENS,
    NEAR_REPEAT_JACCARD,
    PASSAGE_PARAMS,
    DocPassage,
    PassageOccurrence,
    PassagePair,
    RepeatedPassage,
    boilerplate_hashes,
    counts_for_repeats,
    near_repeated_passages,
    passage_hash,
    passage_key,
    repeated_passages,
)
from dedup.shingles import shingle_hash, shingle_hash_sets, shingle_hashes, shingles
from dedup.verify import (
    NEAR_DUPLICATE_JACCARD,
    DuplicatePair,
    content_hash,
    exact_duplicate_pairs,
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
    "DocPassage",
    "DuplicatePair",
    "MinHashParams",
    "PassageOccurrence",
    "PassagePair",
    "RepeatedPassage",
    "band_keys",
    "boilerplate_hashes",
    "candidate_pairs",
    "candidate_probability",
    "canonical_key",
    "choose_banding",
    "cluster",
    "content_hash",
    "counts_for_repeats",
    "datasketch_hashfunc",
    "exact_duplicate_pairs",
    "find_near_duplicates",
    "jaccard",
    "near_repeated_passages",
    "normalize",
    "passage_hash",
    "passage_key",
    "repeated_passages",
    "shingle_hash",
    "shingle_hash_sets",
    "shingle_hashes",
    "shingles",
    "signatures",
    "to_lean_minhash",
    "tokenize",
    "verify",
]
