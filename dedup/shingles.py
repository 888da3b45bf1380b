"""Word k-gram shingles, hashed to uint64 (Broder 1997, "On the resemblance and
containment of documents").

A document is represented by the set of its overlapping k-token windows
("shingles"); the resemblance of two documents is the Jaccard similarity of
their shingle sets. Word 5-grams are the default for documents: long enough
that two unrelated news texts share almost none (common 5-word phrases are
rare), short enough that one edited word only changes 5 shingles. Passages
use 3-grams (see `dedup.passages`), because a paragraph has few words.

Each shingle is hashed with `shingle_hash` (deterministic, see
`dedup.hashing`), so sets are numpy uint64 arrays, sorted and unique; a set
costs 8 bytes per distinct shingle and exact Jaccard is a binary search of
one sorted array in the other. `shingle_hash_sets` computes many sets in one
batch (much faster for short texts than one call per text).

Stated behaviour on short input: a text with at least one but fewer than k
tokens gives exactly one shingle, made of all its tokens (so "Similar Posts"
still has a set, and equals another "Similar posts"); an empty text (or one
that normalizes to nothing, like "!!!") gives an empty set.
"""

import itertools
from collections.abc import Sequence

import numpy as np

from dedup.hashing import U64Array, sequence_hash, token_hash, window_hashes
from dedup.normalize import tokenize
from dedup.tokens import batch_token_hashes

DEFAULT_SHINGLE_SIZE = 5
# Characters tokenized as one batch. The tokenizer's arrays (a dozen of 1 to
# 8 bytes per character) then stay in cache and are reused by the allocator
# instead of being fresh pages every time: measured faster than one batch
# of a whole corpus, and memory stays bounded whatever the caller passes.
_CHARS_AT_ONCE = 1 << 17


def shingle_hash(tokens: Sequence[str]) -> int:
    """Hash one shingle (a sequence of normalized tokens) to 64 bits; pure-Python reference."""
    return sequence_hash(token_hash(t) for t in tokens)


def shingles(text: str, k: int = DEFAULT_SHINGLE_SIZE) -> list[tuple[str, ...]]:
    """Return the token k-grams of `text` in order, duplicates kept (for inspection and tests)."""
    _check_k(k)
    tokens = tokenize(text)
    if not tokens:
        return []
    if len(tokens) < k:
        return [tuple(tokens)]
    return [tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1)]


def shingle_hashes(text: str, k: int = DEFAULT_SHINGLE_SIZE) -> U64Array:
    """Return the sorted unique uint64 hashes of the k-gram shingles of `text` (vectorized)."""
    return shingle_hash_sets([text], k)[0]


def shingle_hash_sets(texts: Sequence[str], k: int = DEFAULT_SHINGLE_SIZE) -> list[U64Array]:
    """Return `shingle_hashes` of every text, computed in batches (much faster for many texts)."""
    _check_k(k)
    sets: list[U64Array] = []
    for batch in _batches(texts):
        sets.extend(_shingle_hash_batch(batch, k))
    return sets


def _batches(texts: Sequence[str]) -> list[Sequence[str]]:
    """Split `texts` into runs of about _CHARS_AT_ONCE characters (a long text is a run alone)."""
    batches: list[Sequence[str]] = []
    start = size = 0
    for i, text in enumerate(texts):
        size += len(text)
        if size >= _CHARS_AT_ONCE:
            batches.append(texts[start : i + 1])
            start, size = i + 1, 0
    if start < len(texts):
        batches.append(texts[start:])
    return batches


def _shingle_hash_batch(texts: Sequence[str], k: int) -> list[U64Array]:
    """Return `shingle_hashes` of every text, computed as one batch."""
    hashes, offsets = batch_token_hashes(texts)
    # Windows are hashed over the whole batch at once; those that straddle
    # two texts are computed and never used.
    windows = window_hashes(hashes, k)
    sets: list[U64Array] = []
    bounds = offsets.tolist()
    for start, end in itertools.pairwise(bounds):
        count = end - start
        if count == 0:
            sets.append(np.empty(0, dtype=np.uint64))
        elif count < k:
            # Fewer than k tokens: one shingle of all of them.
            whole = sequence_hash(hashes[start:end].tolist())
            sets.append(np.array([whole], dtype=np.uint64))
        else:
            sets.append(_sorted_unique(windows[start : end - k + 1]))
    return sets


def _sorted_unique(values: U64Array) -> U64Array:
    """Return the sorted distinct values (np.unique without its per-call overhead)."""
    ordered = np.sort(values)
    distinct = np.empty(ordered.size, dtype=bool)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    return ordered[distinct]


def _check_k(k: int) -> None:
    """Reject a shingle size below 1."""
    if k < 1:
        raise ValueError(f"shingle size k must be at least 1, got {k}")
