"""Vectorized tokenization: text to token hashes on a numpy code-point array.

This is the fast path of `dedup.normalize` rules 5-9 and its tokenization:
after the Unicode stage (done by CPython), every code point is classified by
one table lookup (`dedup.normalize.char_class_table`) and apostrophes,
numbers, separators and no-space scripts are handled with array operations,
never building the normalized string. The result is exactly
``[token_hash(t) for t in tokenize(text)]`` (the tests check it on arbitrary
Unicode), at a fraction of the cost: the per-word Python work of splitting
and joining strings is what made tokenizing dearer than MinHash itself.
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from dedup.hashing import U64Array, span_hashes
from dedup.normalize import (
    APOSTROPHE,
    DIGIT,
    NO_SPACE,
    NUMBER_JOINER,
    SEPARATOR,
    WORD,
    char_class_table,
    is_no_space_astral,
    unicode_stage,
)

_TABLE = char_class_table()
_ZERO = ord("0")


def _classify(cps: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
    """Return the class of every code point; astral ones are words (or no-space letters)."""
    bmp = cps < 0x10000
    if bmp.all():
        return _TABLE[cps]
    classes = np.full(cps.size, WORD, dtype=np.uint8)
    classes[bmp] = _TABLE[cps[bmp]]
    # After the Unicode stage, the only astral characters left are letters,
    # marks and non-decimal numbers (the rest became spaces or "0").
    for i in np.flatnonzero(~bmp).tolist():
        if is_no_space_astral(int(cps[i])):
            classes[i] = NO_SPACE
    return classes


def _replace_numbers(
    cps: npt.NDArray[np.uint32],
    classes: npt.NDArray[np.uint8],
    origin: npt.NDArray[np.intp],
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8], npt.NDArray[np.intp]]:
    """Collapse each number (digit runs joined by single . , : / -) into one "0" word character."""
    is_digit = classes == DIGIT
    if not is_digit.any():
        return cps, classes, origin
    numeric = is_digit.copy()
    if cps.size > 2:
        numeric[1:-1] |= (classes[1:-1] == NUMBER_JOINER) & is_digit[:-2] & is_digit[2:]
    continued = np.zeros_like(numeric)
    continued[1:] = numeric[1:] & numeric[:-1]
    keep = ~continued
    cps, classes, origin, numeric = cps[keep], classes[keep], origin[keep], numeric[keep]
    cps[numeric] = _ZERO
    classes[numeric] = WORD
    return cps, classes, origin


def code_points(text: str) -> npt.NDArray[np.uint32]:
    """Return the code points of the Unicode stage of `text` as a uint32 array."""
    return np.frombuffer(unicode_stage(text).encode("utf-32-le"), dtype=np.uint32)


def batch_token_hashes(texts: Sequence[str]) -> tuple[U64Array, npt.NDArray[np.intp]]:
    """Return the token hashes of all `texts` concatenated, and the (n+1) token offsets per text."""
    # One array for the whole batch, texts joined by a space (a separator,
    # so no token or number spans two texts): a dozen numpy calls per batch
    # instead of per text, which is what small texts need.
    n = len(texts)
    stages = [unicode_stage(t) for t in texts]
    char_starts = np.zeros(n, dtype=np.intp)
    if n > 1:
        np.cumsum([len(s) + 1 for s in stages[:-1]], out=char_starts[1:])
    cps = np.frombuffer(" ".join(stages).encode("utf-32-le"), dtype=np.uint32).copy()
    origin = np.arange(cps.size, dtype=np.intp)
    classes = _classify(cps)
    keep = classes != APOSTROPHE
    if not keep.all():
        cps, classes, origin = cps[keep], classes[keep], origin[keep]
    cps, classes, origin = _replace_numbers(cps, classes, origin)
    starts, ends = _token_bounds(classes)
    hashes = span_hashes(cps, starts, ends)
    token_text = np.searchsorted(char_starts, origin[starts], side="right") - 1
    offsets = np.zeros(n + 1, dtype=np.intp)
    np.cumsum(np.bincount(token_text, minlength=n), out=offsets[1:])
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


def text_token_hashes(text: str) -> U64Array:
    """Return the uint64 hash of every normalized token of `text`, in order (vectorized)."""
    return batch_token_hashes([text])[0]
