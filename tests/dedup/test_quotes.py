"""Matching a quote in a page: exact, near with its containment, absent; candidate bounds."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedup.quotes import (
    MatchResult,
    PageTokens,
    candidate_minimum,
    gram_hashes,
    match,
    quote_tokens,
)

PAGE = (
    "Brussels, 10 January. The EU’s foreign policy chief said on Monday that\n"
    "\"Russia can put its concerns on the table and we will put our concerns on the table "
    "with Russia's actions in Ukraine and elsewhere,\" before the talks began."
)
LONG = "we will put our concerns on the table with Russia’s actions in Ukraine and elsewhere"


def check(quote: str, page: str = PAGE) -> tuple[MatchResult, float, str | None]:
    found = match(quote_tokens(quote), PageTokens.of(page))
    text = page[found.start : found.end] if found.start is not None else None
    return found.result, round(found.containment, 3), text


def test_exact_ignores_case_curly_quotes_and_line_breaks() -> None:
    result, containment, text = check("RUSSIA CAN PUT ITS CONCERNS on the table")
    assert (result, containment) == (MatchResult.EXACT, 1.0)
    assert text == "Russia can put its concerns on the table"
    assert check("policy chief said on Monday that “Russia can put")[0] is MatchResult.EXACT
    assert check(LONG)[0] is MatchResult.EXACT  # Russia’s against Russia's


def test_one_word_changed_is_near_with_its_containment() -> None:
    result, containment, text = check(LONG.replace("elsewhere", "beyond"))
    assert result is MatchResult.NEAR
    assert containment == round(12 / 13, 3)
    assert text is not None and text.startswith("we will put") and "actions" in text


def test_words_scattered_far_apart_are_not_near() -> None:
    words = LONG.split()
    page = " filler words here ".join(" ".join(words[i : i + 3]) for i in range(0, len(words), 3))
    page = page.replace("filler words here", " ".join(["padding"] * 40))
    assert check(LONG, page)[0] is MatchResult.ABSENT


def test_absent_keeps_the_best_containment() -> None:
    result, containment, text = check("nothing of this is on the page at all")
    assert (result, text) == (MatchResult.ABSENT, None)
    assert containment == 0.0
    half = "Russia can put its concerns in the drawer of a desk nobody opens"
    result, containment, _ = check(half)
    assert result is MatchResult.ABSENT and 0 < containment < 0.8


def test_words_are_whole_words() -> None:
    assert check("ian foreign policy", "The Russian foreign policy chief")[0] is MatchResult.ABSENT


def test_short_quotes_match_exactly_only() -> None:
    assert check("concerns on", PAGE)[0] is MatchResult.EXACT
    assert check("concerns in", PAGE)[0] is MatchResult.ABSENT


def test_candidate_minimum_bounds_the_shared_grams() -> None:
    assert candidate_minimum(10, 10) == 8
    assert candidate_minimum(5, 10) == 3  # repeats: two missing occurrences, two grams
    assert candidate_minimum(1, 1) == 1


def test_gram_hashes_of_a_quote_are_in_its_page() -> None:
    quote, page = gram_hashes([LONG, PAGE])
    assert np.isin(quote, page).all()


_VOCAB = st.sampled_from(["envoy", "talks", "border", "treaty", "said", "the", "on", "minister"])


@given(st.lists(_VOCAB, min_size=6, max_size=40), st.data())
def test_any_slice_of_a_page_is_exact(words: list[str], data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(words) - 3))
    end = data.draw(st.integers(start + 3, len(words)))
    page = PageTokens.of(" ".join(w.upper() if i % 2 else w for i, w in enumerate(words)))
    found = match(tuple(words[start:end]), page)
    assert found.result is MatchResult.EXACT and found.containment == 1.0


@given(st.lists(_VOCAB, min_size=3, max_size=30), st.lists(_VOCAB, min_size=0, max_size=30))
def test_containment_is_a_share_and_decides_the_result(quote: list[str], page: list[str]) -> None:
    found = match(tuple(quote), PageTokens.of(" ".join(page)))
    assert 0.0 <= found.containment <= 1.0
    if found.result is MatchResult.NEAR:
        assert found.containment >= 0.8
    if found.result is MatchResult.ABSENT:
        assert found.start is None
        grams, page_grams = gram_hashes([" ".join(quote), " ".join(page)])
        shared = np.isin(grams, page_grams).sum()
        assert found.containment < 0.8 or shared == 0
