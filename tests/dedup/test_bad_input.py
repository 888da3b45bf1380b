"""Bad input through the dedup library: no crash, the stated behaviour.

The same input through the stored path (signing, band join, verification, the
near_duplicates view): tests/storage/test_dedup_views.py.
"""

import numpy as np

from dedup.lsh import EMPTY_BAND_KEY, band_keys
from dedup.minhash import MinHashParams, empty_signature, signatures
from dedup.normalize import tokenize
from dedup.shingles import shingle_hashes

PARAMS = MinHashParams()


def test_empty_text() -> None:
    # Empty set, all-maximum signature, reserved band keys, never a duplicate.
    assert shingle_hashes("").size == 0
    sigs = signatures([shingle_hashes("")], PARAMS)
    assert np.array_equal(sigs[0], empty_signature(PARAMS))
    assert np.all(band_keys(sigs, PARAMS) == EMPTY_BAND_KEY)


def test_megabyte_without_any_space() -> None:
    blob = "x" * 1_000_000
    sets = shingle_hashes(blob)
    assert sets.size == 1  # one token, one shingle


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
