"""Find quotations in a seed's text: the words between quotation marks.

Marks recognised (opening, closing): “…” and „…“ (English and German curly
double), "…" (straight double), «…» and ‹…› (guillemets), and ‘…’ (curly single)
when it is a quotation rather than an apostrophe.

The rules, and why:

- **Apostrophes are not quotes.** ’ between two letters ("don’t", "Russia’s") or
  before a letter is an apostrophe; it closes an open ‘ only when followed by
  something other than a letter or digit. ‘ opens only at the start of a word
  (after a space, an opening bracket or another quote) and before a letter, so
  ‘90s is an elision, not a quote.
- **Straight quotes** (") are the same character both ways: one opens after a
  space, an opening bracket or a dash and before a non-space; it closes an open
  straight quote otherwise.
- **Hard-wrapped lines** are one text: a quote may span line breaks, and its text
  has the wrapping whitespace collapsed to single spaces. A blank line (a paragraph
  break) ends every open quote: those are unbalanced.
- **Nesting** is a stack: “He said ‘no deal’ today” gives the outer quote and the
  inner one (depth 1). A closing mark with no matching opener, and openers left open
  at a paragraph break or at the end, are unbalanced: skipped, and counted.
- **Length**: a quote needs at least `min_words` words (shorter ones match pages by
  chance) and is cut at `max_words` words (`truncated`), so one runaway quote cannot
  dominate the checks.

Offsets are of the quoted text itself (marks excluded), in characters (code points)
of the text as given.
"""

import re
from dataclasses import dataclass

DEFAULT_MIN_WORDS = 3
MAX_WORDS = 300

# Opening mark -> closing marks that end it.
_PAIRS: dict[str, str] = {
    "\u201c": "\u201d",  # “ ”
    "\u201e": "\u201c\u201d",  # „ “ (German), „ ” (Polish, Hungarian)
    "\u00ab": "\u00bb",  # « »
    "\u2039": "\u203a",  # ‹ ›
    "\u2018": "\u2019",  # ‘ ’
    '"': '"',
}
_CLOSERS = frozenset("\u201d\u201c\u00bb\u203a\u2019\"")
_OPENING_CONTEXT = frozenset("([{<\u2014\u2013-/\u201c\u201e\u00ab\u2039\u2018\"")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Quote:
    """A quotation found in a text: where it is, its words, how deeply it is nested."""

    ordinal: int
    start: int
    end: int
    text: str
    words: int
    depth: int
    truncated: bool


@dataclass(frozen=True, slots=True)
class QuoteScan:
    """Every quotation of a text, in order of their opening marks, and what was skipped."""

    quotes: tuple[Quote, ...]
    unbalanced: int
    too_short: int


@dataclass(slots=True)
class _Open:
    mark: str
    content_start: int


def find_quotes(
    text: str, min_words: int = DEFAULT_MIN_WORDS, max_words: int = MAX_WORDS
) -> QuoteScan:
    """Return the quotations of `text` with at least `min_words` words, cut at `max_words`."""
    if min_words < 1 or max_words < min_words:
        raise ValueError(f"need 1 <= min_words <= max_words, got {min_words}, {max_words}")
    spans: list[tuple[int, int, int]] = []
    unbalanced = 0
    for start, end in _paragraphs(text):
        found, skipped = _spans(text, start, end)
        spans.extend(found)
        unbalanced += skipped
    spans.sort()
    quotes: list[Quote] = []
    too_short = 0
    for start, end, depth in spans:
        quote = _quote(text, start, end, depth, len(quotes), max_words)
        if quote.words < min_words:
            too_short += 1
        else:
            quotes.append(quote)
    return QuoteScan(tuple(quotes), unbalanced, too_short)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: the text between blank lines."""
    bounds, start = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        bounds.append((start, match.start()))
        start = match.end()
    bounds.append((start, len(text)))
    return bounds


def _spans(text: str, start: int, end: int) -> tuple[list[tuple[int, int, int]], int]:
    """Quoted (start, end, depth) spans of one paragraph, and the unbalanced marks."""
    stack: list[_Open] = []
    spans: list[tuple[int, int, int]] = []
    unbalanced = 0
    for i in range(start, end):
        ch = text[i]
        if ch not in _PAIRS and ch not in _CLOSERS:
            continue
        before = text[i - 1] if i > start else " "
        after = text[i + 1] if i + 1 < end else " "
        closes = _closes(stack, ch, before, after)
        if closes is not None:
            unbalanced += len(stack) - closes - 1
            opened = stack[closes]
            del stack[closes:]
            spans.append((opened.content_start, i, len(stack)))
        elif _opens(ch, before, after):
            stack.append(_Open(ch, i + 1))
        elif ch in _CLOSERS and _is_stray_closer(ch, before, after):
            unbalanced += 1
    return spans, unbalanced + len(stack)


def _closes(stack: list[_Open], ch: str, before: str, after: str) -> int | None:
    """Index in `stack` of the opener `ch` closes, or None when it does not close one."""
    if ch == "\u2019" and (after.isalnum() or before.isspace()):
        return None  # an apostrophe: don't, Russia’s
    if ch == '"' and before.isspace() and not (after.isspace() or _is_punct(after)):
        return None  # a straight quote at the start of a word opens
    for index in range(len(stack) - 1, -1, -1):
        if ch in _PAIRS[stack[index].mark]:
            return index
    return None


def _opens(ch: str, before: str, after: str) -> bool:
    """Whether `ch` at this place opens a quotation."""
    if ch in "\u00ab\u2039":
        return True  # French typography sets guillemets off with a space: « ainsi »
    if ch not in _PAIRS or after.isspace():
        return False
    if ch == "\u2018" or ch == '"':
        starts_word = before.isspace() or before in _OPENING_CONTEXT
        return starts_word and (after.isalpha() or after in _PAIRS or ch == '"')
    return True


def _is_stray_closer(ch: str, before: str, after: str) -> bool:
    """Whether a closing mark that closes nothing is an unbalanced quote (not an apostrophe)."""
    if ch == "\u2019":
        return False  # an apostrophe, or an elision at a word's end (goin’)
    return not (ch == "\u201c" and not after.isspace())


def _is_punct(ch: str) -> bool:
    """Whether `ch` is punctuation that may follow a closing quote."""
    return not ch.isalnum() and not ch.isspace()


def _quote(text: str, start: int, end: int, depth: int, ordinal: int, max_words: int) -> Quote:
    """The Quote of text[start:end]: whitespace collapsed, cut at `max_words` words."""
    words = list(_WORD.finditer(text, start, end))
    truncated = len(words) > max_words
    if truncated:
        words = words[:max_words]
    if not words:
        return Quote(ordinal, start, end, "", 0, depth, False)
    first, last = words[0].start(), words[-1].end()
    return Quote(
        ordinal, first, last, " ".join(w.group() for w in words),
        sum(1 for w in words if any(c.isalnum() for c in w.group())), depth, truncated,
    )
