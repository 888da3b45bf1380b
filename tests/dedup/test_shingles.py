"""Shingles: sorted unique uint64 sets, the short-text rule, and reference agreement."""

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.shingles import shingle_hash, shingle_hash_sets, shingle_hashes, shingles

# The module, not the function `dedup.shingles` that the package exports under its name.
shingles_module = importlib.import_module("dedup.shingles")


def test_shingle_hashes_are_sorted_unique_uint64() -> None:
    hashes = shingle_hashes("a b c d e f g a b c d e f g")
    assert hashes.dtype == np.uint64
    assert np.all(hashes[1:] > hashes[:-1])
    assert hashes.size == 7  # 10 windows, 7 distinct


def test_vectorized_equals_reference() -> None:
    text = "The EU must be present in these negotiations, “he said”; 東京 2022."
    for k in (1, 3, 5, 8):
        expected = sorted({shingle_hash(s) for s in shingles(text, k)})
        assert shingle_hashes(text, k).tolist() == expected


def test_short_text_is_one_shingle_of_all_tokens() -> None:
    assert shingles("Similar Posts", 5) == [("similar", "posts")]
    assert shingle_hashes("Similar Posts").tolist() == [shingle_hash(["similar", "posts"])]
    # Same normalized words, same set.
    assert np.array_equal(shingle_hashes("similar posts!"), shingle_hashes("Similar Posts"))


def test_empty_text_gives_empty_set() -> None:
    assert shingle_hashes("").size == 0
    assert shingle_hashes("?!").size == 0
    assert shingles("") == []


def test_one_word_text() -> None:
    assert shingle_hashes("Hello").tolist() == [shingle_hash(["hello"])]


def test_order_matters_within_a_shingle() -> None:
    assert shingle_hash(["a", "b"]) != shingle_hash(["b", "a"])
    assert shingle_hash(["ab"]) != shingle_hash(["a", "b"])


def test_bad_k_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        shingle_hashes("a b", 0)


def test_batch_equals_one_by_one_and_reference() -> None:
    texts = [
        "",
        "Similar Posts",
        "one",
        "a b c d e f g h",
        "1,000 people; 2021–22 … «quoted» 東京都は新しい",
        "?!",
        "x y z w v u",
    ]
    for k in (1, 3, 5):
        batch = shingle_hash_sets(texts, k)
        assert len(batch) == len(texts)
        for text, got in zip(texts, batch, strict=True):
            assert got.tolist() == shingle_hashes(text, k).tolist()
            assert got.tolist() == sorted({shingle_hash(s) for s in shingles(text, k)})


def test_batch_of_nothing() -> None:
    assert shingle_hash_sets([]) == []

@given(
    st.lists(st.lists(st.sampled_from(["a", "b", "c", "dé", "1"]), max_size=14), max_size=6),
    st.integers(min_value=1, max_value=5),
)
@settings(max_examples=400, deadline=None)
def test_batches_of_repetitive_texts_equal_the_reference(words: list[list[str]], k: int) -> None:
    # A small vocabulary repeats shingles within a text and across texts,
    # and texts of fewer than k words sit between longer ones.
    texts = [" ".join(w) for w in words]
    batch = shingle_hash_sets(texts, k)
    for text, got in zip(texts, batch, strict=True):
        assert got.tolist() == sorted({shingle_hash(s) for s in shingles(text, k)})
        assert got.base is None  # its own memory, not a view of the batch's


@pytest.mark.parametrize("chars", [1, 7, 30, 1 << 20])
def test_split_into_batches_of_characters_equals_the_reference(
    monkeypatch: pytest.MonkeyPatch, chars: int
) -> None:
    # Batches end after the text that reaches `chars` characters: one text
    # per batch, a few per batch, one batch for all.
    monkeypatch.setattr(shingles_module, "_CHARS_AT_ONCE", chars)
    texts = ["", "a b c d e f", "Similar Posts", "x y z w v u t s", "", "one two three four five"]
    assert len(shingles_module._batches(texts)) == {1: 4, 7: 4, 30: 2, 1 << 20: 1}[chars]
    for k in (1, 5):
        batch = shingle_hash_sets(texts, k)
        assert len(batch) == len(texts)
        for text, got in zip(texts, batch, strict=True):
            assert got.tolist() == sorted({shingle_hash(s) for s in shingles(text, k)})
