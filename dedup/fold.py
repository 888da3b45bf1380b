"""The Unicode stage of normalization as a table on code points (the fast path of `unicode_stage`).

`dedup.normalize.unicode_stage` (rules 1-4: format characters deleted, NFKC,
casefold, diacritics stripped) costs about 30 ns per character in CPython,
mostly in ``casefold`` and the regular expressions: two thirds of the cost of
signing a page. Here most texts take one table lookup per code point instead.

This is exact, not an approximation. Casefolding and diacritic stripping work
character by character; NFKC works between *boundaries*: a character whose
full decomposition starts with a starter (combining class 0) that composes
with no preceding character (UAX #15, "normalization process for stabilized
strings" and the boundary rules of its section 9). When every character of a
text has a boundary before it, NFKC of the text is the concatenation of NFKC
of its characters, so the whole stage is a per-character map, computed by
`unicode_stage` itself for each code point the first time a text holds it (a
run sees a few hundred distinct characters, where computing the map of every
BMP code point up front cost about 0.13 s of every run's CPU: issue 20).

A text holding any character without a boundary before it (a combining mark
such as U+0301, a Hangul vowel jamo, an Indic vowel sign that composes) takes
the reference path, `unicode_stage` on the string. The tests check that both
paths give the same code points on arbitrary Unicode.

Characters whose stage is not one character are rare and handled apart: a
deleted one (a soft hyphen, a zero-width joiner) is mapped to an apostrophe,
which rule 5 deletes next anyway; one that expands only to separators (the
ellipsis, NFKC "...") is mapped to a space, because a run of two or more
separators breaks tokens exactly as one space does (rule 7 joins digits only
across a single separator); the others (the "ﬁ" ligature, "ß", astral
characters) are expanded by inserting their code points.
"""

import bisect
import unicodedata
from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np
import numpy.typing as npt

from dedup.normalize import APOSTROPHE, NUMBER_JOINER, SEPARATOR, char_class_table, unicode_stage

END = "\uffff"
"""Ends each text in a batch: a noncharacter, so a separator that no rule changes."""
END_CP = 0xFFFF
# Table value meaning "look this code point up in `_expansion`". U+FFFE is a
# noncharacter too; its own entry is this marker, so it is looked up as well.
_SPECIAL = 0xFFFE
_APOSTROPHE_CP = ord("'")
_SPACE_CP = ord(" ")
_BMP = 0x10000

U32Array = npt.NDArray[np.uint32]


# Code points whose canonical decompositions are looked for together (see below).
_DECOMPOSITION_CHUNK = 256


@cache
def _composing_seconds() -> frozenset[int]:
    """Return the code points that can compose with a preceding character under NFC."""
    # A superset is safe (it only sends more texts to the reference path), so
    # composition exclusions are not subtracted. Hangul vowel and trailing
    # jamo compose algorithmically (no decomposition entry) and are added.
    seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for cp in _decomposable_candidates():
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    return frozenset(seconds)


def _decomposable_candidates() -> list[int]:
    """Every code point with a canonical decomposition, among others (a superset).

    A run of code points is its own NFD only if none of them has a canonical
    decomposition (one would be replaced), so only the runs that are not are
    read one by one: about 25,000 code points instead of all 1.1 million
    (tests/dedup/test_fold.py checks the result against the full scan).
    """
    cps = np.arange(0x110000, dtype=np.uint32)
    cps[0xD800:0xE000] = 0  # lone surrogates cannot be decoded; none decomposes
    every = cps.tobytes().decode("utf-32-le")
    step = _DECOMPOSITION_CHUNK
    return [
        cp
        for start in range(0, 0x110000, step)
        if not unicodedata.is_normalized("NFD", every[start : start + step])
        for cp in range(start, start + step)
    ]


def _has_boundary_before(ch: str) -> bool:
    """Return whether NFKC never combines `ch` with what precedes it."""
    if 0xD800 <= ord(ch) <= 0xDFFF:
        return False  # a lone surrogate cannot be encoded, let the reference path decide
    first = unicodedata.normalize("NFKD", ch)[0]
    return unicodedata.combining(first) == 0 and ord(first) not in _composing_seconds()


@lru_cache(maxsize=8192)
def _expansion(cp: int) -> tuple[int, ...] | None:
    """Return what the stage makes of code point `cp` wherever it stands, or None if that depends."""
    ch = chr(cp)
    deleted_first = unicodedata.category(ch) == "Cf" or 0xE0100 <= cp <= 0xE01EF
    if not deleted_first and not _has_boundary_before(ch):
        return None
    staged = unicode_stage(ch)
    table = char_class_table()
    # Apostrophes are deleted by rule 5 wherever they are: only the rest counts.
    kept = [ord(c) for c in staged if ord(c) >= _BMP or table[ord(c)] != APOSTROPHE]
    if not kept:
        return (_APOSTROPHE_CP,)
    if len(kept) > 1 and all(c < _BMP and table[c] in (SEPARATOR, NUMBER_JOINER) for c in kept):
        return (_SPACE_CP,)
    return tuple(kept)


@cache
def fold_table() -> U32Array:
    """Return the stage of each code point seen so far as one code point, else _SPECIAL.

    Every entry starts as _SPECIAL, so a code point is looked up in `_expansion` the
    first time a text holds it; `_fold` then writes its entry when the stage makes it
    one BMP code point, as computing the whole table up front would have. Astral code
    points stay _SPECIAL (rare, looked up one by one) but have entries, so that a
    lookup needs no range check (4.4 MB, of which a text touches a few pages). The
    table is only ever written with the value `_expansion` gives, so threads sharing
    it read either the marker or that value.
    """
    table = np.full(0x110000, _SPECIAL, dtype=np.uint32)
    table[END_CP] = END_CP
    return table


def _learn(uniques: U32Array, expansions: Sequence[tuple[int, ...] | None]) -> None:
    """Write the table entries of the code points whose stage is one BMP code point."""
    known = [
        (cp, e[0]) for cp, e in zip(uniques.tolist(), expansions, strict=True)
        if cp < _BMP and cp not in (_SPECIAL, END_CP)
        and e is not None and len(e) == 1 and e[0] < _BMP
    ]
    if known:
        fold_table()[[cp for cp, _ in known]] = [staged for _, staged in known]


def staged_code_points(texts: Sequence[str]) -> U32Array:
    """Return the code points of every text's `unicode_stage`, each followed by U+FFFF.

    A U+FFFF inside a text is made a space, so that the U+FFFFs mark exactly
    where each text ends. The result gives the same tokens as the UTF-32 code
    units of ``"".join(unicode_stage(t).replace(END, " ") + END for t in texts)``,
    and may differ from them only where rules 5-9 make no difference: an
    extra apostrophe (deleted by rule 5), one space for a run of separators.
    """
    slow = {i for i, text in enumerate(texts) if END in text}
    fast = [i for i in range(len(texts)) if i not in slow]
    folded, unsafe = _fold([texts[i] for i in fast])
    if not slow and not unsafe:
        return folded
    return _merge(texts, fast, folded, slow | {fast[k] for k in unsafe})


def _merge(texts: Sequence[str], fast: list[int], folded: U32Array, slow: set[int]) -> U32Array:
    """Put the texts in `slow`, staged by the reference path, in their places among `fast`.

    `folded` holds the texts of `fast` (sorted indices), each ended by U+FFFF;
    a text in both is dropped from it and replaced.
    """
    ends = [0, *(np.flatnonzero(folded == END_CP) + 1).tolist()]
    pieces: list[U32Array] = []
    done = 0  # how much of `folded` is in pieces
    for i in sorted(slow):
        k = bisect.bisect_left(fast, i)  # the fast texts before text i
        pieces.append(folded[done : ends[k]])
        staged = unicode_stage(texts[i]).replace(END, " ") + END
        pieces.append(np.frombuffer(staged.encode("utf-32-le"), dtype=np.uint32))
        done = ends[k + 1] if k < len(fast) and fast[k] == i else ends[k]
    pieces.append(folded[done:])
    return np.concatenate(pieces)


def _fold(texts: Sequence[str]) -> tuple[U32Array, list[int]]:
    """Return the staged code points of texts without U+FFFF, and which texts need the reference.

    The code points of the texts listed are left unfinished: the caller replaces them.
    """
    joined = END.join([*texts, ""])
    raw = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    cps = fold_table().take(raw)
    special = np.flatnonzero(cps == _SPECIAL)
    if special.size == 0:
        return cps, []
    uniques, inverse = np.unique(raw[special], return_inverse=True)
    expansions = [_expansion(int(cp)) for cp in uniques.tolist()]
    _learn(uniques, expansions)
    unsafe: list[int] = []
    if any(e is None for e in expansions):
        positions = special[np.isin(inverse, [k for k, e in enumerate(expansions) if e is None])]
        text_ends = np.cumsum([len(t) + 1 for t in texts])
        unsafe = sorted(set(np.searchsorted(text_ends, positions, side="right").tolist()))
    placeholder = (_SPECIAL,)  # in a text that is replaced anyway
    done = _expand(cps, special, inverse, [placeholder if e is None else e for e in expansions])
    return done, unsafe


def _expand(
    cps: U32Array,
    special: npt.NDArray[np.intp],
    inverse: npt.NDArray[np.intp],
    expansions: list[tuple[int, ...]],
) -> U32Array:
    """Put each special position's expansion in place: its first code point, then inserted ones."""
    width = max(len(e) for e in expansions)
    padded = np.zeros((len(expansions), width), dtype=np.uint32)
    lengths = np.array([len(e) for e in expansions], dtype=np.intp)
    for k, expansion in enumerate(expansions):
        padded[k, : len(expansion)] = expansion
    cps[special] = padded[inverse, 0]
    if width == 1:
        return cps
    tails = padded[inverse, 1:]
    present = np.arange(1, width) < lengths[inverse, np.newaxis]
    where = np.repeat(special + 1, lengths[inverse] - 1)
    return np.insert(cps, where, tails[present])
