"""Repeated passages: exact repeats, near repeats and per-site boilerplate.

A passage is a paragraph of a document (the extractor splits them). Three
kinds of repetition are found:

* **Exact repeats** (`repeated_passages`): passages whose normalized text
  (`dedup.normalize`) is equal, hence equal `passage_hash`, occurring more
  than once, in one document (a headline printed three times) or across
  documents (a paragraph copied between outlets).
* **Near repeats** (`near_repeated_passages`): distinct passages whose word
  3-gram shingle sets have exact Jaccard >= 0.8 (`NEAR_REPEAT_JACCARD`),
  found through MinHash and banded LSH with the same parameters as documents
  except the shingle size (`PASSAGE_PARAMS`). 3-grams rather than 5-grams because a paragraph has
  tens of words, not thousands: one changed word in a 20-word paragraph
  leaves J = 0.52 with 5-grams (5 of 16 shingles change) but 0.71 with
  3-grams (3 of 18); with 3-grams a single edit in a paragraph of 30 words
  or more stays above 0.8.
* **Boilerplate** (`boilerplate_hashes`): a passage hash occurring in at least
  K distinct documents of one site ("Comments are closed", "Similar Posts").

Short-passage rule: a passage with fewer than ``MIN_PASSAGE_TOKENS`` = 5
normalized tokens (`dedup.normalize.tokenize`; in Chinese or Japanese text a
token is a character) is skipped for exact and near repeat detection,
because such passages repeat by chance between unrelated texts ("Read
more", "Share this", "Photo: Reuters", a date line). There is one exception:
boilerplate detection counts passages of every length, since short site
furniture repeated across one site's pages is exactly what it looks for. A
passage that normalizes to nothing is never counted. The headline of the
example seed 001 ("Borrell says that any discussion between the US and
Russia about security in Europe must lead the EU", 18 tokens) counts.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from dedup.hashing import text_hash
from dedup.lsh import band_keys, candidate_pairs
from dedup.minhash import MinHashParams, signatures
from dedup.normalize import normalize, tokenize, tokenized_normalized
from dedup.shingles import shingle_hash_sets
from dedup.verify import verify

MIN_PASSAGE_TOKENS = 5
PASSAGE_SHINGLE_SIZE = 3
PASSAGE_PARAMS = MinHashParams(shingle_size=PASSAGE_SHINGLE_SIZE)
# Exact 3-gram Jaccard from which two distinct passages are near repeats.
NEAR_REPEAT_JACCARD = 0.8


@dataclass(frozen=True, slots=True)
class DocPassage:
    """A passage (paragraph) of a document, at its position (0-based) in the document."""

    doc_id: int
    position: int
    text: str


@dataclass(frozen=True, slots=True)
class RepeatedPassage:
    """A normalized passage occurring more than once, with where it occurs."""

    passage_hash: int
    occurrences: int
    documents: int
    locations: tuple[tuple[int, int], ...]  # (doc_id, position), sorted


@dataclass(frozen=True, slots=True, order=True)
class PassagePair:
    """Two distinct passages with exact 3-gram Jaccard >= NEAR_REPEAT_JACCARD; hash_a < hash_b."""

    hash_a: int
    hash_b: int
    jaccard: float


@dataclass(frozen=True, slots=True)
class PassageOccurrence:
    """A passage hash seen in a document of a site (input of boilerplate detection)."""

    doc_id: int
    site: str
    hash: int


def passage_hash(text: str) -> int:
    """Return the signed 64-bit hash of the passage's normalized text (a DuckDB BIGINT)."""
    return text_hash(normalize(text))


def counts_for_repeats(text: str, min_tokens: int = MIN_PASSAGE_TOKENS) -> bool:
    """Return whether a passage is long enough (>= min_tokens tokens) for repeat detection."""
    return len(tokenize(text)) >= max(min_tokens, 1)


def passage_key(text: str, min_tokens: int = MIN_PASSAGE_TOKENS) -> tuple[int, bool]:
    """Return (`passage_hash`, `counts_for_repeats`) of a passage, normalizing it once."""
    normalized = normalize(text)
    tokens = tokenized_normalized(normalized)
    count = tokens.count(" ") + 1 if tokens else 0
    return text_hash(normalized), count >= max(min_tokens, 1)


def repeated_passages(
    passages: Iterable[DocPassage], min_tokens: int = MIN_PASSAGE_TOKENS
) -> list[RepeatedPassage]:
    """Return the passages whose normalized text occurs more than once, most frequent first."""
    locations: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
    for passage in passages:
        if counts_for_repeats(passage.text, min_tokens):
            locations[passage_hash(passage.text)].append((passage.doc_id, passage.position))
    repeated = [
        RepeatedPassage(h, len(locs), len({doc for doc, _ in locs}), tuple(sorted(locs)))
        for h, locs in locations.items()
        if len(locs) > 1
    ]
    repeated.sort(key=lambda r: (-r.occurrences, r.passage_hash))
    return repeated


def near_repeated_passages(
    texts: Iterable[str],
    params: MinHashParams = PASSAGE_PARAMS,
    min_tokens: int = MIN_PASSAGE_TOKENS,
    min_jaccard: float = NEAR_REPEAT_JACCARD,
) -> list[PassagePair]:
    """Return pairs of distinct normalized passages with exact Jaccard >= min_jaccard."""
    by_hash: dict[int, str] = {}
    for text in texts:
        if counts_for_repeats(text, min_tokens):
            by_hash.setdefault(passage_hash(text), text)
    hashes = sorted(by_hash)
    sets = shingle_hash_sets([by_hash[h] for h in hashes], params.shingle_size)
    keys = band_keys(signatures(sets, params), params)
    no_old = np.empty((0, params.bands), dtype=np.uint64)
    index_ids = list(range(len(hashes)))
    candidates = candidate_pairs(keys, index_ids, no_old, [])
    verified = verify(candidates, dict(zip(index_ids, sets, strict=True)), min_jaccard)
    pairs = []
    for pair in verified:
        low, high = sorted((hashes[pair.doc_a], hashes[pair.doc_b]))
        pairs.append(PassagePair(low, high, pair.jaccard))
    pairs.sort()
    return pairs


def boilerplate_hashes(occurrences: Iterable[PassageOccurrence], min_docs: int) -> set[int]:
    """Return the passage hashes occurring in >= min_docs distinct documents of one site."""
    if min_docs < 1:
        raise ValueError(f"min_docs must be at least 1, got {min_docs}")
    docs: defaultdict[tuple[str, int], set[int]] = defaultdict(set)
    for occurrence in occurrences:
        docs[(occurrence.site, occurrence.hash)].add(occurrence.doc_id)
    return {h for (_, h), doc_ids in docs.items() if len(doc_ids) >= min_docs}
