"""Does a page contain a quotation? Exact and near matching of a quote in a page's text.

Both sides are normalized as dedup normalizes everything (`dedup.normalize`): case,
curly against straight quotes, apostrophes, accents, numbers and whitespace do not
matter. The results:

- ``exact``: the quote's tokens occur contiguously in the page's tokens.
- ``near``: at least `NEAR_CONTAINMENT` of the quote's word 3-grams occur in the page,
  in order, within a window of `WINDOW_FACTOR` times the quote's length (one word
  changed in a 20-word quote leaves 15 of 18 3-grams: 0.83). The containment is the
  share matched (Broder 1997's containment, restricted to one ordered window so that
  words scattered over a long page do not add up to a quote).
- ``absent``: neither.

The page's own words that matched are returned by character offsets in the page's
text, so a reader sees what the page says, not its normalized form.

For finding a quote anywhere in a corpus, `gram_hashes` gives the distinct word 3-gram
hashes of a text (the same hashes dedup's shingles use): an inverted index from them
to documents narrows candidates to those sharing enough 3-grams (`candidate_minimum`),
which are then checked with `match`.
"""

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from dedup.hashing import U64Array, token_hash, window_hashes
from dedup.normalize import tokenize
from dedup.shingles import shingle_hash_sets
from dedup.tokens import batch_token_hashes

NEAR_CONTAINMENT = 0.8
GRAM = 3
WINDOW_FACTOR = 2
_CHUNK = re.compile(r"\S+")
# What normalization makes one token, nearly: letters and digits joined by apostrophes,
# digit runs joined by number separators. Used only when it counts as many tokens as the
# real tokenizer (else the page is tokenized word by word).
_TOKEN = re.compile(
    r"(?:[^\W_]|['\u2018\u2019\u02bc])+(?:[.,:/\-\u2010-\u2015\u2212]\d+)*"
)


class MatchResult(StrEnum):
    """How a page holds a quote (and `UNAVAILABLE` when there is no page to look in)."""

    EXACT = "exact"
    NEAR = "near"
    ABSENT = "absent"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class QuoteMatch:
    """The result of looking for a quote in a page, with the page's matched characters."""

    result: MatchResult
    containment: float
    start: int | None = None  # character offsets in the page's text (end exclusive)
    end: int | None = None


@dataclass(frozen=True, slots=True)
class PageTokens:
    """A page's normalized tokens as hashes (dedup's token hashes), and its 3-gram hashes."""

    text: str
    tokens: U64Array  # token_hash of each token, in order
    grams: U64Array  # hash of tokens[i : i + GRAM] at each i (dedup's shingle hashes)

    @classmethod
    def of(cls, text: str) -> "PageTokens":
        """Tokenize `text` (the whole text at once, vectorized: the fast path)."""
        hashes, _ = batch_token_hashes([text])
        return cls._of(text, hashes)

    @classmethod
    def _of(cls, text: str, tokens: U64Array) -> "PageTokens":
        return cls(text, tokens, window_hashes(tokens, GRAM))

    def spans(self) -> tuple["PageTokens", list[tuple[int, int]]]:
        """The character span of each token, and the page they belong to.

        A regular expression finds the tokens' places; when it does not count as many as
        the tokenizer (a number written with a space inside, a script without spaces),
        the page is tokenized word by word instead, and that page is returned.
        """
        fast = [m.span() for m in _TOKEN.finditer(self.text)]
        if len(fast) == len(self.tokens):
            return self, fast
        hashes: list[int] = []
        spans: list[tuple[int, int]] = []
        for chunk in _CHUNK.finditer(self.text):
            for token in tokenize(chunk.group()):
                hashes.append(token_hash(token))
                spans.append(chunk.span())
        tokens = np.array(hashes, dtype=np.uint64)
        page = self if np.array_equal(tokens, self.tokens) else PageTokens._of(self.text, tokens)
        return page, spans


@dataclass(frozen=True, slots=True)
class QuoteTokens:
    """A quote's token hashes and 3-gram hashes, in order."""

    tokens: U64Array
    grams: U64Array

    @classmethod
    def of(cls, tokens: Sequence[str]) -> "QuoteTokens":
        """The hashes of a quote's normalized tokens."""
        hashes = np.array([token_hash(t) for t in tokens], dtype=np.uint64)
        return cls(hashes, window_hashes(hashes, GRAM))


def quote_tokens(text: str) -> tuple[str, ...]:
    """The normalized tokens of a quote."""
    return tuple(tokenize(text))


def match(
    quote: Sequence[str] | QuoteTokens, page: PageTokens, near: float = NEAR_CONTAINMENT,
    where: bool = True,
) -> QuoteMatch:
    """Look for the quote's tokens in the page: exact, near (with containment) or absent.

    With `where`, a match says which characters of the page's text matched.
    """
    hashed = quote if isinstance(quote, QuoteTokens) else QuoteTokens.of(quote)
    found = _match(hashed, page, near)
    if not where or found.start is None:
        return found
    spanned, spans = page.spans()
    if spanned is not page:
        found = _match(hashed, spanned, near)
    first = found.start
    if first is None:
        return found
    last = found.end if found.end is not None else first
    return QuoteMatch(found.result, found.containment, spans[first][0], spans[last][1])


def _match(quote: QuoteTokens, page: PageTokens, near: float) -> QuoteMatch:
    """`match` with start and end as the first and last page token matched."""
    n = quote.tokens.size
    if n == 0:
        return QuoteMatch(MatchResult.ABSENT, 0.0)
    exact = _exact(quote, page)
    if exact is not None:
        return QuoteMatch(MatchResult.EXACT, 1.0, exact, exact + n - 1)
    m = quote.grams.size
    if m == 0:
        return QuoteMatch(MatchResult.ABSENT, 0.0)
    count, first, last = _best_window(quote.grams, page, WINDOW_FACTOR * n)
    containment = count / m
    if count and containment >= near:
        end = min(last + GRAM, page.tokens.size) - 1
        return QuoteMatch(MatchResult.NEAR, containment, first, end)
    return QuoteMatch(MatchResult.ABSENT, containment)


def _exact(quote: QuoteTokens, page: PageTokens) -> int | None:
    """Index of the first page token where the quote's tokens occur contiguously."""
    n = quote.tokens.size
    if n > page.tokens.size:
        return None
    if quote.grams.size:
        starts = np.flatnonzero(page.grams == quote.grams[0])
    else:
        starts = np.flatnonzero(page.tokens == quote.tokens[0])
    for i in starts.tolist():
        if np.array_equal(page.tokens[i : i + n], quote.tokens):
            return int(i)
    return None


def _best_window(grams: U64Array, page: PageTokens, window: int) -> tuple[int, int, int]:
    """Most quote 3-grams matched in order within `window` tokens: (count, first, last)."""
    found = np.isin(page.grams, grams)
    where = np.flatnonzero(found)
    values = page.grams[where]
    positions: dict[int, list[int]] = {}
    for value, at in zip(values.tolist(), where.tolist(), strict=True):
        positions.setdefault(value, []).append(at)
    order = grams.tolist()
    best = (0, 0, 0)
    # Trying every start keeps the best containment of an absence too; a start can only
    # match the grams after it, so starts past the best count stop the search.
    for j, gram in enumerate(order):
        if len(order) - j <= best[0]:
            break
        for start in positions.get(gram, []):
            count, last = _greedy(order, j, start, positions, start + window)
            if count > best[0]:
                best = (count, start, last)
    return best


def _greedy(
    grams: list[int], j: int, start: int, positions: dict[int, list[int]], limit: int
) -> tuple[int, int]:
    """Match grams[j:] in order from page position `start`, before `limit`: (count, last)."""
    count, last = 1, start
    for gram in grams[j + 1 :]:
        at = positions.get(gram)
        if not at:
            continue
        k = bisect.bisect_right(at, last)
        if k < len(at) and at[k] < limit:
            count, last = count + 1, at[k]
    return count, last


def gram_hashes(texts: list[str]) -> list[U64Array]:
    """Distinct word 3-gram hashes of each text, sorted (the keys of the corpus index)."""
    return shingle_hash_sets(texts, GRAM)


def candidate_minimum(distinct: int, total: int, near: float = NEAR_CONTAINMENT) -> int:
    """Fewest distinct 3-grams a document must share with a quote to hold a near match.

    `total` is the quote's 3-gram count with repeats: at most total - ceil(near * total)
    occurrences go unmatched, so at most that many distinct grams are missing.
    """
    missing = total - math.ceil(near * total - 1e-9)
    return max(1, distinct - missing)
