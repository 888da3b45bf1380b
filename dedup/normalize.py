"""Text normalization and tokenization for shingling and passage hashing.

Two captures of the same story rarely differ in wording; they differ in
typography, encoding and counters. Normalization removes exactly those
differences so that shingles (and passage hashes) compare words:

1. **Format characters are deleted** (Unicode category Cf: soft hyphen,
   zero-width joiners, byte-order mark; and variation selectors). They are
   invisible, and a soft hyphen inside a word must not split it.
2. **NFKC**: compatibility forms fold to their plain equivalents (full-width
   Latin, ligatures such as "ﬁ", superscript digits, half-width katakana).
   The acute-accent apostrophe "´" is first made a plain ``'``, because
   NFKC would turn it into a space and a combining mark.
3. **Casefold** (stronger than ``lower``: "Straße" matches "STRASSE").
4. **Diacritics stripped**: the *generic* combining diacritical marks
   (U+0300–036F, U+1AB0–1AFF, U+1DC0–1DFF, U+20D0–20FF, U+FE20–FE2F) are
   removed: a precomposed character whose canonical decomposition holds
   some is replaced by the NFC of what is left ("é" gives "e", "ǖ" gives
   "u"), and stray marks are deleted. Outlets differ in whether they keep
   accents ("Zelenśkyy" / "Zelenskyy", "Sergueï" / "Serguei").
   Script-specific marks (Devanagari vowel signs, Hebrew points, the
   Japanese voicing marks U+3099/U+309A) are kept, because there they are
   part of the spelling; so "が" stays "が" and Hangul is untouched.
5. **Apostrophes deleted, joining the word**: ``'`` and its typographic
   forms (curly, low-9, prime, modifier-letter) are removed, so "Russia’s"
   and "Russia's" both give "russias", "don't" gives "dont", and the kind
   of apostrophe cannot change the token count.
6. **Dashes unified**: the dash family (U+2010–2015, minus sign, ...) is
   treated as ``-``, which matters only inside numbers (rule 7); elsewhere a
   dash is punctuation (rule 8).
7. **Numbers mapped to a placeholder** ``0``: a run of digits (any script),
   with single inner ``. , : / -`` separators ("10:30", "2022-01-10",
   "1,000.5", "2021–22"), becomes one ``0``. Reprints of a story differ in
   exactly these: dates, times, view and comment counters, updated figures.
   Letters of the same token are kept ("covid19" gives "covid0").
8. **Punctuation, symbols, controls and whitespace become word breaks**:
   every character that is not a letter, a number or a combining mark
   (the underscore included) separates tokens.
9. **Whitespace collapsed** to single spaces, stripped at both ends.

Rules 1 to 4 are Unicode normalizations done by CPython (`unicode_stage`,
a no-op on ASCII text apart from lowercasing; `dedup.fold` is its fast form
as a table on code points). Rules 5 to 9 are per-character
classes (`char_class_table`), so they run either as regular expressions on
the string (`normalize`, the readable reference) or as table lookups on a
numpy code-point array (`dedup.tokens`, the fast path used for shingles);
the tests check that both give the same tokens.

Tokenization (`tokenize`, `tokenized_text`) splits the normalized text on
spaces, except in scripts that are written without spaces between words:
Han (Chinese characters, also in Japanese), Hiragana, Katakana, Bopomofo,
Thai, Lao, Khmer and Myanmar. There every character (code point) is its own
token, because a word segmenter needs dictionaries and would make hashes
depend on its version; character n-grams are the usual fallback for
near-duplicate detection in CJK text. Hangul is written with spaces and keeps
word tokens.
"""

import re
import unicodedata

import numpy as np
import numpy.typing as npt

# Character classes of rules 5-9 and of tokenization (values of the table).
WORD = 0  # letter, mark or non-decimal number: part of a token
SEPARATOR = 1  # punctuation, symbol, space, control: breaks tokens
DIGIT = 2  # decimal digit (Nd): part of a number
APOSTROPHE = 3  # deleted (rule 5)
NUMBER_JOINER = 4  # . , : / and dashes: join two digit runs, else a separator
NO_SPACE = 5  # letter of a script written without spaces: a token by itself

_APOSTROPHES = "'\u2018\u2019\u201a\u201b\u2032\u2035\u02b9\u02bb\u02bc\u02bd\uff07"
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_NUMBER_JOINERS = ".,:/" + _DASHES
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3005, 0x3007),  # ideographic iteration mark, closing mark, number zero
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31BF),  # Bopomofo extended
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # Han extension A
    (0x4E00, 0x9FFF),  # Han
    (0xF900, 0xFAFF),  # Han compatibility ideographs
    (0x20000, 0x3134F),  # Han extensions B-G
)
_GENERIC_DIACRITICS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)


def _build_diacritic_map() -> dict[str, str]:
    """Map each BMP character holding a generic diacritic to its form without (marks to "")."""
    # No astral character decomposes to a generic mark (checked at Unicode
    # 15), so the BMP suffices and the regex below stays a fast bitmap.
    stripped: dict[str, str] = {}
    for cp in range(0x10000):
        ch = chr(cp)
        if _GENERIC_DIACRITICS.match(ch):
            stripped[ch] = ""
            continue
        canonical = unicodedata.decomposition(ch)
        if not canonical or canonical.startswith("<"):
            continue  # no canonical decomposition: nothing to strip
        decomposed = unicodedata.normalize("NFD", ch)
        if _GENERIC_DIACRITICS.search(decomposed):
            stripped[ch] = unicodedata.normalize("NFC", _GENERIC_DIACRITICS.sub("", decomposed))
    return stripped


_DIACRITIC_MAP = _build_diacritic_map()
_DIACRITIC_RE = re.compile("[" + "".join(re.escape(ch) for ch in _DIACRITIC_MAP) + "]")


def _strip_diacritic(match: re.Match[str]) -> str:
    """Return the character matched by _DIACRITIC_RE without its generic diacritics."""
    return _DIACRITIC_MAP[match.group()]


def _nfkc(text: str) -> str:
    """Return NFKC of `text`, normalizing only the lines that need it (same result, faster)."""
    # A line break is a starter that composes with nothing, so NFKC never
    # crosses it: normalizing line by line is exact. Most lines of most
    # texts pass the quick check and are left as they are.
    if unicodedata.is_normalized("NFKC", text):
        return text
    return "\n".join(
        line if unicodedata.is_normalized("NFKC", line) else unicodedata.normalize("NFKC", line)
        for line in text.split("\n")
    )


def _build_table() -> npt.NDArray[np.uint8]:
    """Classify every BMP code point (rules 5-9 and tokenization)."""
    table = np.empty(0x10000, dtype=np.uint8)
    for cp in range(0x10000):
        category = unicodedata.category(chr(cp))
        if category == "Nd":
            table[cp] = DIGIT
        elif category[0] in "LMN":
            table[cp] = WORD
        else:
            table[cp] = SEPARATOR
    for lo, hi in _NO_SPACE_RANGES:
        if lo < 0x10000:
            span = table[lo : hi + 1]
            span[span == WORD] = NO_SPACE
    for ch in _NUMBER_JOINERS:
        table[ord(ch)] = NUMBER_JOINER
    for ch in _APOSTROPHES:
        table[ord(ch)] = APOSTROPHE
    table.setflags(write=False)
    return table


_TABLE = _build_table()


def char_class_table() -> npt.NDArray[np.uint8]:
    """Return the read-only class (WORD, SEPARATOR, ...) of every BMP code point."""
    return _TABLE


def no_space_astral_ranges() -> tuple[tuple[int, int], ...]:
    """Return the (first, last) astral code points of the scripts written without spaces."""
    return tuple((lo, hi) for lo, hi in _NO_SPACE_RANGES if lo >= 0x10000)


def _class_regex(classes: tuple[int, ...], exclude: str = "") -> str:
    """Return a regex character-class body for the BMP code points of the given classes."""
    # A class made only of BMP code points compiles to a bitmap in `re`; one
    # mixing in astral code points or \w / \d is scanned range by range and
    # is 2-4x slower on a whole text.
    ranges: list[tuple[int, int]] = []
    for cp in np.flatnonzero(np.isin(_TABLE, classes)).tolist():
        if chr(cp) in exclude:
            continue
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in ranges
    )


def _cf_ranges() -> str:
    """Return a regex character-class body of the BMP format characters (category Cf)."""
    cps = [cp for cp in range(0x10000) if unicodedata.category(chr(cp)) == "Cf"]
    return "".join(re.escape(chr(cp)) for cp in cps)


# Rule 1. Variation selectors are marks (Mn), not format characters, but they
# only pick a glyph style (emoji or text presentation) and must not form
# tokens. Astral ones are handled in `_astral_before_nfkc`.
_FORMAT_CHARS = re.compile(f"[{_cf_ranges()}\u180b-\u180f\ufe00-\ufe0f]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

_APOSTROPHE_RE = re.compile(f"[{_class_regex((APOSTROPHE,))}]+")
_DIGITS = _class_regex((DIGIT,))
_JOINERS = _class_regex((NUMBER_JOINER,))
_NUMBER_RE = re.compile(f"[{_DIGITS}]+(?:[{_JOINERS}][{_DIGITS}]+)*")
# Runs of two or more non-word characters, or one that is not a plain space:
# a single space between words (most separators) is left alone, which saves
# one replacement per word.
_NON_WORD = _class_regex((SEPARATOR, NUMBER_JOINER))
_NON_WORD_NOT_SPACE = _class_regex((SEPARATOR, NUMBER_JOINER), exclude=" ")
_NON_WORD_RE = re.compile(f"[{_NON_WORD}]{{2,}}|[{_NON_WORD_NOT_SPACE}]")
_NO_SPACE_RE = re.compile(
    "(["
    + "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in _NO_SPACE_RANGES)
    + "])"
)


def _astral_before_nfkc(match: re.Match[str]) -> str:
    """Delete an astral format character or variation selector; keep anything else."""
    ch = match.group()
    if unicodedata.category(ch) == "Cf" or 0xE0100 <= ord(ch) <= 0xE01EF:
        return ""
    return ch


def _astral_after_nfkc(match: re.Match[str]) -> str:
    """Map an astral digit to 0, keep an astral letter, mark or number, space anything else."""
    category = unicodedata.category(match.group())
    if category == "Nd":
        return "0"
    return match.group() if category[0] in "LMN" else " "


def unicode_stage(text: str) -> str:
    """Apply rules 1-4 (format characters, NFKC, casefold, diacritics); astral non-words: space."""
    if text.isascii():
        return text.lower()
    has_astral = _ASTRAL.search(text) is not None
    t = _FORMAT_CHARS.sub("", text)
    if has_astral:
        t = _ASTRAL.sub(_astral_before_nfkc, t)
    if "\u00b4" in t:
        t = t.replace("\u00b4", "'")
    t = _nfkc(t).casefold()
    t = _DIACRITIC_RE.sub(_strip_diacritic, t)
    if has_astral:
        # Astral characters are classified here, one by one, so that every
        # regex and table after this point only needs BMP classes.
        t = _ASTRAL.sub(_astral_after_nfkc, t)
    return t


def normalize(text: str) -> str:
    """Return the normalized form of `text` described in the module docstring."""
    return _NON_WORD_RE.sub(" ", _rules_1_to_7(text)).strip()


def _rules_1_to_7(text: str) -> str:
    """Unicode stage, apostrophes dropped, digit runs as one 0: what no line break stops."""
    return _NUMBER_RE.sub("0", _APOSTROPHE_RE.sub("", unicode_stage(text)))


def normalize_lines(lines: list[str]) -> list[str]:
    """Return `normalize` of each of `lines` (strings without a line break), in one pass.

    Rules 1 to 7 never act across a line break (NFKC is exact line by line, `_nfkc`;
    the rest are per character, or join digits and apostrophes within a line), so they
    run once over the lines joined by line breaks; only rules 8 and 9 run per line. The
    same result as normalizing each line alone, with a few regular-expression calls per
    text instead of per line (issue 20: a page has tens of passages).
    """
    if not lines:
        return []
    t = _rules_1_to_7("\n".join(lines))
    return [_NON_WORD_RE.sub(" ", line).strip() for line in t.split("\n")]


def tokenized_text(text: str) -> str:
    """Return `normalize(text)` with characters of no-space scripts separated by single spaces."""
    return tokenized_normalized(normalize(text))


def tokenized_normalized(normalized: str) -> str:
    """Return `tokenized_text` of a text from its `normalize`d form (no second normalization)."""
    if normalized.isascii():
        return normalized
    return " ".join(_NO_SPACE_RE.sub(r" \1 ", normalized).split())


def tokenize(text: str) -> list[str]:
    """Split `text` into normalized tokens (words; single characters in no-space scripts)."""
    t = tokenized_text(text)
    return t.split(" ") if t else []
