"""Bad input through the whole pipeline: no crash, the stated behaviour."""

import numpy as np

from dedup.lsh import EMPTY_BAND_KEY, band_keys
from dedup.minhash import MinHashParams, empty_signature, signatures
from dedup.near_duplicates import find_near_duplicates
from dedup.normalize import tokenize
from dedup.shingles import shingle_hashes
from dedup.verify import DuplicatePair

from .seed_001 import SEED_001

PARAMS = MinHashParams()


def test_empty_text() -> None:
    # Empty set, all-maximum signature, reserved band keys, never a duplicate.
    assert shingle_hashes("").size == 0
    sigs = signatures([shingle_hashes("")], PARAMS)
    assert np.array_equal(sigs[0], empty_signature(PARAMS))
    assert np.all(band_keys(sigs, PARAMS) == EMPTY_BAND_KEY)
    assert find_near_duplicates({1: "", 2: "", 3: "   ", 4: "?!"}) == []


def test_one_word_document() -> None:
    # One shingle; equal one-word documents are exact duplicates, others are not.
    pairs = find_near_duplicates({1: "Hello", 2: "hello!", 3: "World"})
    assert pairs == [DuplicatePair(1, 2, 1.0)]


def test_chinese_text_without_spaces() -> None:
    text = (
        "欧盟外交与安全政策高级代表博雷利表示，美国和俄罗斯之间关于欧洲安全的任何讨论都必须有欧盟参与。"
        "他强调，当务之急是避免局势进一步升级。"
    )
    assert len(tokenize(text)) > 40  # character tokens, 5-character shingles
    one_char = text.replace("博雷利", "博瑞利")  # J = 0.84
    four_chars = text.replace("当务之急", "首要任务")  # J = 0.76
    unrelated = "完全不同的一段文字，讲的是天气和体育比赛。"
    pairs = find_near_duplicates({1: text, 2: one_char, 3: four_chars, 4: unrelated})
    assert [(p.doc_a, p.doc_b) for p in pairs] == [(1, 2)]


def test_japanese_text_without_spaces() -> None:
    text = (
        "ボレル上級代表は、欧州の安全保障に関する米国とロシアの協議には欧州連合が参加しなければ"
        "ならないと述べた。当面の優先事項はさらなる緊張の激化を避けることだと強調した。"
    )
    edited = text + "と語った。"
    pairs = find_near_duplicates({1: text, 2: edited})
    assert len(pairs) == 1 and pairs[0].jaccard >= 0.8
    # Its passages: tests/storage/test_passage_views.py::test_japanese_passages_near_repeat.


def test_megabyte_long_text() -> None:
    big = (SEED_001 + "\n") * 260  # about one megabyte
    assert len(big.encode("utf-8")) > 1_000_000
    other = big + " and one more closing sentence about security."
    pairs = find_near_duplicates({1: big, 2: other, 3: SEED_001})
    # Repeating a text does not change its shingle set (only its seams add
    # a few shingles), so the big text is a near duplicate of the seed too.
    assert (1, 2) in {(p.doc_a, p.doc_b) for p in pairs}
    assert all(p.jaccard >= 0.8 for p in pairs)


def test_megabyte_without_any_space() -> None:
    blob = "x" * 1_000_000
    sets = shingle_hashes(blob)
    assert sets.size == 1  # one token, one shingle
    assert find_near_duplicates({1: blob, 2: blob + "y"}) == []


def test_control_characters_and_lone_marks() -> None:
    text = "\x00\x01abc\u0301 \ufeffdef\u200d ghi\x7f \u0301"
    assert tokenize(text) == ["abc", "def", "ghi"]


def test_megabyte_of_chinese_without_spaces() -> None:
    # One token per character: about a million 5-character shingles.
    text = ("北京欢迎你，欧盟外交与安全政策高级代表表示任何讨论都必须有欧盟参与。" * 30_000)[
        :1_000_000
    ]
    sets = shingle_hashes(text)
    assert 0 < sets.size < 100  # a repeated sentence: few distinct shingles
    pairs = find_near_duplicates({1: text, 2: text + "他说。"})
    assert [(p.doc_a, p.doc_b) for p in pairs] == [(1, 2)]
