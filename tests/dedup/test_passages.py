"""Passage keys: the hash, the short rule (the repeat rules: tests/storage/test_passage_views.py)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.passages import counts_for_repeats, passage_hash, passage_key

HEADLINE = (
    "Borrell says that any discussion between the US and Russia about security in Europe "
    "must lead the EU"
)


def test_short_passage_rule() -> None:
    assert not counts_for_repeats("Similar Posts")
    assert not counts_for_repeats("Kommentare sind geschlossen.")
    assert not counts_for_repeats("January 10, 2022")
    assert counts_for_repeats(HEADLINE)
    assert counts_for_repeats("one two three four five")
    assert counts_for_repeats("北京欢迎你")  # five characters, five tokens


def test_passage_hash_fits_bigint_and_ignores_typography() -> None:
    h = passage_hash(HEADLINE)
    assert -(1 << 63) <= h < (1 << 63)
    assert passage_hash(HEADLINE.upper() + " ") == h


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_passage_key_is_hash_and_count_rule_with_one_normalization(text: str) -> None:
    assert passage_key(text) == (passage_hash(text), counts_for_repeats(text))


def test_passage_key_on_scripts_and_short_text() -> None:
    for text in ("", "!!!", "Similar Posts", HEADLINE, "日本語のテキストです", "Ünïcode façade 12 x"):
        assert passage_key(text) == (passage_hash(text), counts_for_repeats(text))
