"""The table-driven Unicode stage gives exactly the tokens of `unicode_stage`'s text."""

import unicodedata

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.fold import (
    _BMP,
    _SPECIAL,
    END,
    END_CP,
    _composing_seconds,
    _expansion,
    _fold,
    fold_table,
    staged_code_points,
)
from dedup.hashing import token_hash
from dedup.normalize import tokenize, unicode_stage
from dedup.tokens import batch_token_hashes

# Characters whose stage depends on their neighbours (combining marks, Hangul
# jamo, Indic vowel signs that compose, format characters between them) and
# characters whose stage is not one character (ligatures, "ß", the ellipsis,
# the double prime, astral letters and digits), beside plain ones.
_CONTEXT = (
    "aeoAE ,.1\u0301\u0308\u0327\u0323\u1100\u1161\u11a8\uac00\u0b92\u0bd7\u0bc6\u0bbe"
    "\u0915\u093c\u0d46\u0d3e\u00ad\u200d\ufe0f\u00b4\u00a0\u2026\u2033\ufb01\u00df\u00bd"
    "\u0130\u01c5\u3099\u304b\uff76\uff9e\U0001d7d8\U0001d41b\U0001f600\U000e0101\uffff\ufffe"
)


def _reference(texts: list[str]) -> list[int]:
    """The code points the reference path gives for a batch."""
    staged = "".join(unicode_stage(t).replace(END, " ") + END for t in texts)
    return np.frombuffer(staged.encode("utf-32-le"), dtype=np.uint32).tolist()


def _same_tokens(texts: list[str]) -> bool:
    """Whether the batch's token hashes are the reference tokenizer's, text by text."""
    hashes, offsets = batch_token_hashes(texts)
    return all(
        hashes[offsets[i] : offsets[i + 1]].tolist() == [token_hash(t) for t in tokenize(text)]
        for i, text in enumerate(texts)
    )


def test_every_bmp_character_alone() -> None:
    texts = [chr(cp) for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF]
    assert _same_tokens(texts)
    # And between letters and digits, where a deletion or a separator shows.
    assert _same_tokens([f"a{t}b 1{t}2" for t in texts])


@given(st.lists(st.text(alphabet=st.sampled_from(_CONTEXT), max_size=12), max_size=5))
@settings(max_examples=1500, deadline=None)
def test_characters_in_context(texts: list[str]) -> None:
    assert _same_tokens(texts)


@given(st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=20), max_size=4))
@settings(max_examples=500, deadline=None)
def test_any_unicode(texts: list[str]) -> None:
    assert _same_tokens(texts)


def test_plain_text_takes_the_table() -> None:
    # Typography, Latin accents, Cyrillic, Hangul syllables, an emoji: no text
    # here needs the reference path (the speed of signing depends on it).
    texts = ["It’s “quoted” — naïve café", "Москва 2022", "한국어 텍스트", "ok 😀 ß"]
    _, unsafe = _fold(texts)
    assert unsafe == []
    assert _same_tokens(texts)
    assert _fold(["a\u00ad…b"])[0].tolist() == [ord(c) for c in "a' b\uffff"]


def test_only_texts_with_combining_marks_take_the_reference() -> None:
    texts = ["plain", "e\u0301te\u0301", "\u1100\u1161", "plain again"]
    _, unsafe = _fold(texts)
    assert unsafe == [1, 2]
    assert staged_code_points(texts).tolist() == _reference(texts)
    assert _same_tokens(texts)


def test_empty_batch_and_empty_texts() -> None:
    assert staged_code_points([]).tolist() == []
    assert staged_code_points(["", "", END]).tolist() == _reference(["", "", END])
    assert _same_tokens(["", "", END, f"a{END}b"])


def test_composing_seconds_are_those_of_every_code_point() -> None:
    # The chunked scan reads only runs that NFD changes: it must find what reading
    # every code point's decomposition finds.
    seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for cp in range(0x110000):
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    assert _composing_seconds() == seconds


def test_table_learnt_from_texts_is_the_whole_table() -> None:
    texts = [chr(cp) for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF]
    fold_table.cache_clear()  # a fresh table: every entry the marker
    first = staged_code_points(texts)
    learnt = fold_table().copy()
    again = staged_code_points(texts)  # now through the entries learnt
    assert np.array_equal(first, again)
    assert _same_tokens(texts)
    expected = np.full(0x110000, _SPECIAL, dtype=np.uint32)
    for cp in range(_BMP):
        e = _expansion(cp)
        if cp not in (_SPECIAL, END_CP) and e is not None and len(e) == 1 and e[0] < _BMP:
            expected[cp] = e[0]
    expected[END_CP] = END_CP
    assert np.array_equal(learnt, expected)
