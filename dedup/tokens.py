"""Vectorized tokenization: text to token hashes on a numpy code-point array.

This is the fast path of `dedup.normalize` rules 5-9 and its tokenization:
after the Unicode stage (a table on code points, `dedup.fold`, with CPython's
`unicode_stage` for the texts that need it), every code point is classified by
one table lookup (`dedup.normalize.char_class_table`) and apostrophes,
numbers, separators and no-space scripts are handled with array operations,
never building the normalized string. The result is exactly
``[token_hash(t) for t in tokenize(text)]`` (the tests check it on arbitrary
Unicode), at a fraction of the cost: the per-word Python work of splitting
and joining strings is what made tokenizing dearer than MinHash itself.
"""

from collections.abc import Sequence
from functools import cache

import numpy as np
import numpy.typing as npt

from dedup.fold import END_CP, staged_code_points
from dedup.hashing import U64Array, span_hashes
from dedup.normalize import (
    APOSTROPHE,
    DIGIT,
    NO_SPACE,
    NUMBER_JOINER,
    SEPARATOR,
    WORD,
    char_class_table,
    no_space_astral_ranges,
)

_TABLE = char_class_table()
_ZERO = ord("0")


@cache
def _full_class_table() -> npt.NDArray[np.uint8]:
    """Return the class of every code point, astral ones included (1.1 MB, built once)."""
    # After the Unicode stage, the only astral characters left are letters,
    # marks and non-decimal numbers (the rest became spaces or "0"): words,
    # or no-space letters in the scripts written without spaces.
    table = np.full(0x110000, WORD, dtype=np.uint8)
    table[: _TABLE.size] = _TABLE
    for lo, hi in no_space_astral_ranges():
        table[lo : hi + 1] = NO_SPACE
    table.setflags(write=False)
    return table


def _classify(cps: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
    """Return the class of every code point of the Unicode stage's output."""
    return _full_class_table().take(cps)


def _replace_numbers(
    cps: npt.NDArray[np.uint32], classes: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """Collapse each number (digit runs joined by single . , : / -) into one "0" word character."""
    # Digits are sparse in text, so the work is done on their positions.
    digits = np.flatnonzero(classes == DIGIT)
    if digits.size == 0:
        return cps, classes
    # A joiner between two digits (d, d + 2) belongs to the number.
    gaps = digits[1:] - digits[:-1] == 2
    joiners = digits[:-1][gaps] + 1
    joiners = joiners[classes[joiners] == NUMBER_JOINER]
    # Two sorted, disjoint runs of positions: merged by one sort, not np.union1d's unique.
    numeric = np.sort(np.concatenate([digits, joiners]), kind="stable")
    # Keep the first position of every number, drop the rest.
    follows = numeric[1:] - numeric[:-1] == 1
    continued = numeric[1:][follows]
    firsts = numeric[np.concatenate([[True], ~follows])]
    cps[firsts] = _ZERO
    classes[firsts] = WORD
    if continued.size:
        keep = np.ones(cps.size, dtype=bool)
        keep[continued] = False
        cps, classes = cps[keep], classes[keep]
    return cps, classes


def batch_token_hashes(texts: Sequence[str]) -> tuple[U64Array, npt.NDArray[np.intp]]:
    """Return the token hashes of all `texts` concatenated, and the (n+1) token offsets per text."""
    # One array for the whole batch: a dozen numpy calls per batch instead of
    # per text, which is what small texts need. Each text is ended by U+FFFF,
    # a noncharacter (so a separator) that survives every step and marks
    # where each text ends (see `dedup.fold.staged_code_points`).
    n = len(texts)
    cps = staged_code_points(texts)
    classes = _classify(cps)
    apostrophes = classes == APOSTROPHE
    if apostrophes.any():
        keep = ~apostrophes
        cps, classes = cps[keep], classes[keep]
    cps, classes = _replace_numbers(cps, classes)
    starts, ends = _token_bounds(classes)
    hashes = span_hashes(cps, starts, ends)
    text_ends = np.flatnonzero(cps == END_CP)
    offsets = np.zeros(n + 1, dtype=np.intp)
    offsets[1:] = np.searchsorted(starts, text_ends)
    return hashes, offsets


def _token_bounds(
    classes: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Return the start and end (exclusive) positions of the tokens, given character classes."""
    word = (classes != SEPARATOR) & (classes != NUMBER_JOINER)
    alone = classes == NO_SPACE
    # A token starts at a word character after a non-word one, and at (and
    # after) every no-space character; it ends symmetrically.
    boundary_before = np.ones(classes.size, dtype=bool)
    boundary_before[1:] = ~word[:-1] | alone[:-1]
    boundary_after = np.ones(classes.size, dtype=bool)
    boundary_after[:-1] = ~word[1:] | alone[1:]
    starts = np.flatnonzero(word & (boundary_before | alone))
    ends = np.flatnonzero(word & (boundary_after | alone)) + 1
    return starts, ends
