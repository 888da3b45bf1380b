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
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from dedup.hashing import U64Array
from dedup.normalize import tokenize
from dedup.shingles import shingle_hash_sets

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
    """A page's normalized tokens and where each 3-gram of them occurs."""

    text: str
    tokens: tuple[str, ...]
    grams: dict[tuple[str, ...], list[int]]

    @classmethod
    def of(cls, text: str) -> "PageTokens":
        """Tokenize `text` (the whole text at once: the fast path)."""
        return cls._of(text, tokenize(text))

    @classmethod
    def _of(cls, text: str, tokens: list[str]) -> "PageTokens":
        grams: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i in range(len(tokens) - GRAM + 1):
            grams[tuple(tokens[i : i + GRAM])].append(i)
        return cls(text, tuple(tokens), dict(grams))

    def spans(self) -> tuple["PageTokens", list[tuple[int, int]]]:
        """The page tokenized word by word with each token's character span (slower).

        Tokenizing whitespace-separated words one by one gives the whole text's tokens
        but for rare cases (a number written with a space inside); the page returned is
        the one the spans belong to.
        """
        fast = [m.span() for m in _TOKEN.finditer(self.text)]
        if len(fast) == len(self.tokens):
            return self, fast
        tokens: list[str] = []
        spans: list[tuple[int, int]] = []
        for chunk in _CHUNK.finditer(self.text):
            for token in tokenize(chunk.group()):
                tokens.append(token)
                spans.append(chunk.span())
        page = self if tuple(tokens) == self.tokens else PageTokens._of(self.text, tokens)
        return page, spans


def quote_tokens(text: str) -> tuple[str, ...]:
    """The normalized tokens of a quote."""
    return tuple(tokenize(text))


def match(
    quote: tuple[str, ...], page: PageTokens, near: float = NEAR_CONTAINMENT, where: bool = True
) -> QuoteMatch:
    """Look for the quote's tokens in the page: exact, near (with containment) or absent.

    With `where`, a match says which characters of the page's text matched.
    """
    found = _match(quote, page, near)
    if not where or found.start is None:
        return found
    spanned, spans = page.spans()
    if spanned is not page:
        found = _match(quote, spanned, near)
    first = found.start
    if first is None:
        return found
    last = found.end if found.end is not None else first
    return QuoteMatch(found.result, found.containment, spans[first][0], spans[last][1])


def _match(quote: tuple[str, ...], page: PageTokens, near: float) -> QuoteMatch:
    """`match` with start and end as the first and last page token matched."""
    if not quote:
        return QuoteMatch(MatchResult.ABSENT, 0.0)
    exact = _exact(quote, page)
    if exact is not None:
        return _found(MatchResult.EXACT, 1.0, exact, len(quote), page)
    grams = [quote[i : i + GRAM] for i in range(len(quote) - GRAM + 1)]
    if not grams:
        return QuoteMatch(MatchResult.ABSENT, 0.0)
    count, first, last = _best_window(grams, page, WINDOW_FACTOR * len(quote))
    containment = count / len(grams)
    if count and containment >= near:
        return _found(MatchResult.NEAR, containment, first, last + GRAM - first, page)
    return QuoteMatch(MatchResult.ABSENT, containment)


def _found(
    result: MatchResult, containment: float, first: int, length: int, page: PageTokens
) -> QuoteMatch:
    """A match covering page tokens first .. first + length - 1 (token indexes)."""
    return QuoteMatch(result, containment, first, min(first + length, len(page.tokens)) - 1)


def _exact(quote: tuple[str, ...], page: PageTokens) -> int | None:
    """Index of the first page token where the quote's tokens occur contiguously."""
    n = len(quote)
    if n >= GRAM:
        starts: list[int] = page.grams.get(quote[:GRAM], [])
    else:
        starts = [i for i, t in enumerate(page.tokens) if t == quote[0]]
    for i in starts:
        if page.tokens[i : i + n] == quote:
            return i
    return None


def _best_window(
    grams: list[tuple[str, ...]], page: PageTokens, window: int
) -> tuple[int, int, int]:
    """Most quote 3-grams matched in order within `window` tokens: (count, first, last)."""
    best = (0, 0, 0)
    # A match of at least NEAR_CONTAINMENT must start with one of the first grams; trying
    # starts further on can only find fewer, but they give the containment of absences.
    for j, gram in enumerate(grams):
        if len(grams) - j <= best[0]:
            break
        for start in page.grams.get(gram, []):
            count, last = _greedy(grams, j, start, page, start + window)
            if count > best[0]:
                best = (count, start, last)
    return best


def _greedy(
    grams: list[tuple[str, ...]], j: int, start: int, page: PageTokens, limit: int
) -> tuple[int, int]:
    """Match grams[j:] in order from page position `start`, before `limit`: (count, last)."""
    count, last = 1, start
    for gram in grams[j + 1 :]:
        positions = page.grams.get(gram)
        if not positions:
            continue
        k = bisect.bisect_right(positions, last)
        if k < len(positions) and positions[k] < limit:
            count, last = count + 1, positions[k]
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
