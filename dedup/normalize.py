"""Text normalization and tokenization for shingling and passage hashing.

Two captures of the same story rarely differ in wording; they differ in
typography, encoding and counters. Normalization removes exactly those
differences so that the shingles (and passage hashes) compare words.
Steps 1 to 5 run only on non-ASCII text; ASCII text is just lowercased
(NFKC and casefold change nothing else in it).

1. **Format characters are deleted** (Unicode category Cf: soft hyphen,
   zero-width joiners, byte-order mark; and variation selectors). They are
   invisible, and a soft hyphen inside a word must not split it.
2. **Quotes and dashes unified**: curly, low-9, prime, acute-accent and
   modifier-letter apostrophes become ``'``; the dash family (U+2010–2015,
   minus sign, ...) becomes ``-``. This runs before NFKC, which would turn
   an acute-accent apostrophe into a space and a combining mark.
3. **NFKC**: compatibility forms fold to their plain equivalents (full-width
   Latin, ligatures such as "ﬁ", superscript digits, half-width katakana).
4. **Casefold** (stronger than ``lower``: "Straße" matches "STRASSE").
5. **Diacritics stripped**: NFKD, then the *generic* combining diacritical
   marks (U+0300–036F, U+1AB0–1AFF, U+1DC0–1DFF, U+20D0–20FF, U+FE20–FE2F)
   are dropped, then NFC recomposes what is left. Outlets differ in whether
   they keep accents ("Zelenskyy" / "Zelenśkyy", "Sergueï" / "Serguei"). Script-specific
   marks (Devanagari vowel signs, Hebrew points, the Japanese voicing marks
   U+3099/U+309A) are kept, because there they are part of the spelling; so
   "が" stays "が" and Hangul syllables recompose.
6. **Apostrophes deleted, joining the word** ("Russia’s" and "Russia's" both
   give "russias"; "don't" gives "dont"), so typographic and typewriter
   apostrophes cannot change the token count.
7. **Numbers mapped to a placeholder** ``0``: a run of digits, with inner
   ``. , : / -`` separators ("10:30", "2022-01-10", "1,000.5"), becomes one
   ``0``. Reprints of a story differ in exactly these: dates, times, view
   and comment counters, updated casualty figures. Other letters of a
   token are kept ("covid19" gives "covid0").
8. **Punctuation, symbols, controls and whitespace become word breaks**:
   every character that is not a letter, a number or a combining mark
   (underscore included) turns into a space.
9. **Whitespace collapsed** to single spaces, stripped at both ends.

Tokenization (`tokenize`, `tokenized_text`) splits the normalized text on
spaces, except in scripts that are written without spaces between words:
Han (Chinese characters, also in Japanese), Hiragana, Katakana, Bopomofo,
Thai, Lao, Khmer and Myanmar. A run of those characters is split into one
token per character (code point), because a word segmenter would need
dictionaries and would make hashes depend on its version; character n-grams
are the usual fallback for near-duplicate detection in CJK text. Hangul is
written with spaces and keeps word tokens.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable

_GENERIC_DIACRITICS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_APOSTROPHES = re.compile(
    "[\u2018\u2019\u201a\u201b\u2032\u2035\u02b9\u02bb\u02bc\u02bd\u00b4\uff07]"
)
_DASHES = re.compile("[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d]")
_NUMBER = re.compile(r"\d+(?:[.,:/\-]\d+)*")
_ASCII_NON_WORD = re.compile("[^a-z0-9]+")


def _code_point_ranges(keep: Callable[[int], bool], planes: Iterable[range]) -> str:
    """Return a regex character-class body for the code points of `planes` that `keep` accepts."""
    ranges: list[tuple[int, int]] = []
    for plane in planes:
        for cp in plane:
            if keep(cp):
                if ranges and ranges[-1][1] == cp - 1:
                    ranges[-1] = (ranges[-1][0], cp)
                else:
                    ranges.append((cp, cp))
    return "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in ranges
    )


def _is_word_char(ch: str) -> bool:
    """Letters, numbers and combining marks are word characters; the underscore is not."""
    return unicodedata.category(ch)[0] in "LNM"


_BMP = range(0x10000)
# Format characters are deleted (not spaced). Variation selectors are marks
# (Mn), not format characters, but they only pick a glyph style (emoji or
# text presentation) and must not form tokens.
_FORMAT_CHARS = re.compile(
    "["
    + _code_point_ranges(lambda cp: unicodedata.category(chr(cp)) == "Cf", [_BMP])
    + "\U000110bd\U000110cd\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001-\U000e007f"
    + "\u180b-\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]"
)
# A class made only of BMP code points compiles to a bitmap in `re` (a
# class mixing in astral code points or \w is scanned range by range, 4x
# slower), so BMP non-word characters are matched by this class, and astral
# characters, rare outside emoji, are classified one by one beforehand.
_BMP_NON_WORD = re.compile(
    "[" + _code_point_ranges(lambda cp: not _is_word_char(chr(cp)), [_BMP]) + "]+"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _astral_to_space(match: re.Match[str]) -> str:
    """Keep an astral letter, number or mark; turn any other astral character into a space."""
    ch = match.group()
    return ch if _is_word_char(ch) else " "


# Scripts written without spaces between words: one token per character.
_NO_SPACE_SCRIPTS = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3005-\u3007"  # ideographic iteration mark, closing mark, number zero
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u312f\u31a0-\u31bf"  # Bopomofo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han, compatibility ideographs
    "\U00020000-\U0003134f"  # Han extensions B-G
)
_NO_SPACE_CHAR = re.compile(f"([{_NO_SPACE_SCRIPTS}])")


def normalize(text: str) -> str:
    """Return the normalized form of `text` described in the module docstring."""
    if text.isascii():
        # Fast path: ASCII has no format characters, compatibility forms,
        # diacritics or typographic quotes, and NFKC leaves it unchanged.
        t = _NUMBER.sub("0", text.lower().replace("'", ""))
        return _ASCII_NON_WORD.sub(" ", t).strip()
    t = _FORMAT_CHARS.sub("", text)
    # Before NFKC, which would turn the acute-accent apostrophe into a space
    # and a combining mark.
    t = _DASHES.sub("-", _APOSTROPHES.sub("'", t))
    t = unicodedata.normalize("NFKC", t).casefold()
    t = unicodedata.normalize("NFKD", t)
    t = _GENERIC_DIACRITICS.sub("", t)
    t = unicodedata.normalize("NFC", t)
    t = t.replace("'", "")
    t = _NUMBER.sub("0", t)
    if _ASTRAL.search(t):
        t = _ASTRAL.sub(_astral_to_space, t)
    t = _BMP_NON_WORD.sub(" ", t)
    return t.strip()


def tokenized_text(text: str) -> str:
    """Return `normalize(text)` with characters of no-space scripts separated by single spaces."""
    t = normalize(text)
    if t.isascii():
        return t
    return " ".join(_NO_SPACE_CHAR.sub(r" \1 ", t).split())


def tokenize(text: str) -> list[str]:
    """Split `text` into normalized tokens (words; single characters in no-space scripts)."""
    t = tokenized_text(text)
    return t.split(" ") if t else []
