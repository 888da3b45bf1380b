"""Passage keys: the normalized hash and the short-passage rule of repeat detection.

A passage is a paragraph of a document (the extractor splits them). A run stores
each passage with its key (`passage_key`), and the repeat rules are the stored path
over those keys:

* **Exact repeats** (the ``repeated_passages`` view, storage/schema.py):
  passages whose normalized text (`dedup.normalize`) is equal, hence equal
  `passage_hash`, occurring more than once, in one document (a headline printed
  three times) or across documents (a paragraph copied between outlets).
* **Near repeats** (``pipeline.dedup_step.index_passages``, read through the
  ``near_repeated_passages`` view): distinct passages whose word 3-gram shingle
  sets have exact Jaccard >= 0.8 (`NEAR_REPEAT_JACCARD`), found through MinHash and banded LSH with the
  same parameters as documents except the shingle size (`PASSAGE_PARAMS`).
  3-grams rather than 5-grams because a paragraph has tens of words, not
  thousands: one changed word in a 20-word paragraph leaves J = 0.52 with 5-grams
  (5 of 16 shingles change) but 0.71 with 3-grams (3 of 18); with 3-grams a
  single edit in a paragraph of 30 words or more stays above 0.8.
* **Boilerplate** (``repeated_passages.is_boilerplate``, the one definition): a
  passage hash occurring in at least K distinct documents of one site
  ("Comments are closed", "Similar Posts").

Short-passage rule (`counts_for_repeats`): a passage with fewer than
``MIN_PASSAGE_TOKENS`` = 5 normalized tokens (`dedup.normalize.tokenize`; in
Chinese or Japanese text a token is a character) is skipped for exact and near
repeat detection, because such passages repeat by chance between unrelated texts
("Read more", "Share this", "Photo: Reuters", a date line). There is one
exception: boilerplate detection counts passages of every length, since short
site furniture repeated across one site's pages is exactly what it looks for. A
passage that normalizes to nothing is never counted. The headline of the example
seed 001 ("Borrell says that any discussion between the US and Russia about
security in Europe must lead the EU", 18 tokens) counts.
"""

import threading
from collections.abc import Mapping, Sequence

from dedup.hashing import text_hash
from dedup.minhash import MinHashParams
from dedup.normalize import normalize, normalize_lines, tokenize, tokenized_normalized

MIN_PASSAGE_TOKENS = 5
PASSAGE_SHINGLE_SIZE = 3
PASSAGE_PARAMS = MinHashParams(shingle_size=PASSAGE_SHINGLE_SIZE)
# Exact 3-gram Jaccard from which two distinct passages are near repeats.
NEAR_REPEAT_JACCARD = 0.8


def passage_hash(text: str) -> int:
    """Return the signed 64-bit hash of the passage's normalized text (a DuckDB BIGINT)."""
    return text_hash(normalize(text))


def counts_for_repeats(text: str, min_tokens: int = MIN_PASSAGE_TOKENS) -> bool:
    """Return whether a passage is long enough (>= min_tokens tokens) for repeat detection."""
    return len(tokenize(text)) >= max(min_tokens, 1)


def passage_key(text: str, min_tokens: int = MIN_PASSAGE_TOKENS) -> tuple[int, bool]:
    """Return (`passage_hash`, `counts_for_repeats`) of a passage, normalizing it once."""
    _, hashed, count = _keyed(normalize(text))
    return hashed, count >= max(min_tokens, 1)


def _keyed(normalized: str) -> tuple[str, int, int]:
    """(normalized passage, its `text_hash`, its token count): what its key is made of."""
    tokens = tokenized_normalized(normalized)
    return normalized, text_hash(normalized), tokens.count(" ") + 1 if tokens else 0


class _Remembered:
    """`_keyed` of the passage texts keyed last, by passage text, up to a number of characters.

    Near-duplicate pages repeat most of each other's passages, and one run stores many of
    them: a passage seen before is looked up, not normalized again (issue 20). The
    entries used least recently go first once the texts held (the passage and its
    normalized form) pass `max_chars`: the passages a site repeats on every page stay,
    those of one page only (its own text) pass through.
    """

    def __init__(self, max_chars: int) -> None:
        self._entries: dict[str, tuple[str, int, int]] = {}
        self._chars = 0
        self._max_chars = max_chars
        self._lock = threading.Lock()

    def get(self, passages: Sequence[str]) -> list[tuple[str, int, int] | None]:
        """The entry of each passage, None for those not held; those found are used last."""
        entries = self._entries
        with self._lock:
            found = [entries.get(p) for p in passages]
            for p, entry in zip(passages, found, strict=True):
                if entry is not None and p in entries:
                    entries[p] = entries.pop(p)  # to the end: dropped last
        return found

    def add(self, entries: Mapping[str, tuple[str, int, int]]) -> None:
        """Hold `entries`, dropping the oldest ones past the bound."""
        with self._lock:
            for passage, entry in entries.items():
                if passage not in self._entries:
                    self._entries[passage] = entry
                    self._chars += len(passage) + len(entry[0])
            while self._chars > self._max_chars and self._entries:
                passage = next(iter(self._entries))
                self._chars -= len(passage) + len(self._entries.pop(passage)[0])


# The distinct passages of some 400 typical articles (5,000 characters each): 7.2 MB with
# the objects that hold them on the aeb news pages (benchmarks/store_cpu.py), up to about
# twice that in scripts beyond Latin-1 (2 or 4 bytes a character).
_REMEMBERED = _Remembered(max_chars=4_000_000)


def keys_and_content_hash(
    passages: Sequence[str], min_tokens: int = MIN_PASSAGE_TOKENS
) -> tuple[list[tuple[int, bool]], int]:
    """Return each passage's `passage_key` and the `content_hash` of their text, normalizing once.

    `passages` must be a text's lines, whole and in order (several lines may make one
    passage, joined by a space), as the extractor splits them, empty ones dropped. No
    rule of `dedup.normalize` carries a token across a line break (NFKC is exact line by
    line; numbers and apostrophes join only within a line), so the normalized text is
    its passages' normalized forms joined by spaces: the same hash `content_hash` gives
    the whole text, without normalizing it a second time (issue 20). For the same
    reason a passage normalizes alike whatever lines it is normalized with, so passages
    keyed recently are looked up (`_Remembered`) and only the others are normalized.
    """
    found = _REMEMBERED.get(passages)
    missing = list(dict.fromkeys(p for p, entry in zip(passages, found, strict=True) if entry is None))
    fresh = {
        p: _keyed(normalized)
        for p, normalized in zip(
            missing, normalize_lines([" ".join(p.split()) for p in missing]), strict=True
        )
    }
    _REMEMBERED.add(fresh)
    least = max(min_tokens, 1)
    keys, parts = [], []
    for p, entry in zip(passages, found, strict=True):
        normalized, hashed, count = entry or fresh[p]
        keys.append((hashed, count >= least))
        if normalized:
            parts.append(normalized)
    return keys, text_hash(" ".join(parts))
