"""Exact verification of LSH candidates on the shingle-hash sets.

LSH only proposes candidates: a pair that agrees on one band may still be far
below the threshold (the S-curve of `dedup.lsh` gives pairs at Jaccard 0.5 a
28% chance). Every candidate is therefore checked on the exact Jaccard
similarity of the two shingle-hash sets, and only pairs at or above the
threshold are reported; no MinHash estimate is ever reported as a
similarity.

Exact duplicates (same normalized content hash, joined in SQL by
`storage.dedup_store.DedupStore.exact_pairs`) are pairs with Jaccard 1.0; verification
gives them 1.0 too, since equal normalized texts have equal shingle sets. Empty documents (empty
shingle sets) have Jaccard 0.0 with everything, including each other: an
empty text carries no evidence of being a copy.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from dedup.hashing import U64Array, text_hash
from dedup.normalize import normalize

NEAR_DUPLICATE_JACCARD = 0.8
"""Exact Jaccard from which two documents are near-duplicates, unless the caller says
otherwise (the default banding of `dedup.lsh` is chosen to find such pairs)."""

@dataclass(frozen=True, slots=True, order=True)
class DuplicatePair:
    """A verified near-duplicate pair, doc_a < doc_b, with its exact Jaccard similarity."""

    doc_a: int
    doc_b: int
    jaccard: float

    def __post_init__(self) -> None:
        """Keep pairs canonical, so that sets and joins of pairs never see (b, a) beside (a, b)."""
        if not self.doc_a < self.doc_b:
            raise ValueError(f"DuplicatePair needs doc_a < doc_b, got {self.doc_a}, {self.doc_b}")


def content_hash(text: str) -> int:
    """Return the signed 64-bit hash of the normalized text (equal for exact duplicates)."""
    return text_hash(normalize(text))


def intersection_size(a: U64Array, b: U64Array) -> int:
    """Count the common values of two sorted unique uint64 arrays."""
    if a.size == 0 or b.size == 0:
        return 0
    if a.size > b.size:
        a, b = b, a
    # Binary search of the smaller set in the larger: O(m log n), no sort,
    # which beats np.intersect1d (a sort of the concatenation) on sorted input.
    positions = np.searchsorted(b, a)
    positions[positions == b.size] = b.size - 1
    return int(np.count_nonzero(b[positions] == a))


def jaccard(a: U64Array, b: U64Array) -> float:
    """Return the exact Jaccard similarity of two sorted unique uint64 sets (0.0 if one empty)."""
    if a.size == 0 or b.size == 0:
        return 0.0
    common = intersection_size(a, b)
    return common / (a.size + b.size - common)


def verify(
    candidates: Iterable[tuple[int, int]],
    shingles_by_id: Mapping[int, U64Array],
    threshold: float = NEAR_DUPLICATE_JACCARD,
) -> list[DuplicatePair]:
    """Return the candidates whose exact Jaccard is >= threshold, as sorted DuplicatePairs."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    verified: dict[tuple[int, int], DuplicatePair] = {}
    for x, y in candidates:
        if x == y:
            continue
        a, b = (x, y) if x < y else (y, x)
        if (a, b) in verified:
            continue
        set_a, set_b = shingles_by_id[a], shingles_by_id[b]
        small, large = sorted((set_a.size, set_b.size))
        # J <= |small| / |large|: skip the merge when the sizes alone rule it out.
        if large == 0 or small < threshold * large:
            continue
        similarity = jaccard(set_a, set_b)
        if similarity >= threshold:
            verified[(a, b)] = DuplicatePair(a, b, similarity)
    return sorted(verified.values())
