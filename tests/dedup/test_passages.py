"""Repeated passages on the example seed, near repeats, the short rule and boilerplate."""

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.passages import (
    DocPassage,
    PassageOccurrence,
    boilerplate_hashes,
    counts_for_repeats,
    near_repeated_passages,
    passage_hash,
    passage_key,
    repeated_passages,
)

from .seed_001 import SEED_001

HEADLINE = (
    "Borrell says that any discussion between the US and Russia about security in Europe "
    "must lead the EU"
)


def _lines(doc_id: int, text: str) -> list[DocPassage]:
    # One passage per non-empty line, as the extractor's paragraph splitter
    # yields them for plain-text seeds.
    lines = [line for line in text.splitlines() if line.strip()]
    return [DocPassage(doc_id, i, line) for i, line in enumerate(lines)]


def test_seed_headline_occurs_three_times() -> None:
    repeats = repeated_passages(_lines(1, SEED_001))
    assert len(repeats) == 1
    (headline,) = repeats
    assert headline.passage_hash == passage_hash(HEADLINE)
    assert headline.occurrences == 3
    assert headline.documents == 1
    assert headline.locations == ((1, 0), (1, 3), (1, 4))


def test_copied_paragraph_across_documents() -> None:
    paragraph = _lines(1, SEED_001)[5].text
    other = [DocPassage(2, 0, "Another outlet's intro."), DocPassage(2, 1, paragraph.upper())]
    repeats = {r.passage_hash: r for r in repeated_passages(_lines(1, SEED_001) + other)}
    copied = repeats[passage_hash(paragraph)]
    assert copied.documents == 2 and copied.occurrences == 2


def test_short_passage_rule() -> None:
    assert not counts_for_repeats("Similar Posts")
    assert not counts_for_repeats("Kommentare sind geschlossen.")
    assert not counts_for_repeats("January 10, 2022")
    assert counts_for_repeats(HEADLINE)
    assert counts_for_repeats("one two three four five")
    assert counts_for_repeats("北京欢迎你")  # five characters, five tokens
    passages = [DocPassage(1, 0, "Similar Posts"), DocPassage(2, 0, "Similar posts")]
    assert repeated_passages(passages) == []
    assert len(repeated_passages(passages, min_tokens=1)) == 1


def test_near_repeated_passages_found_and_verified() -> None:
    paragraph = (
        "The immediate priority is to avoid further escalation, he said, stressing that any "
        "discussion on European security must take place in coordination with the EU."
    )
    edited = paragraph.replace("immediate", "urgent")
    unrelated = "Riabkov asked to consider Moscow's proposals on security guarantees next week."
    pairs = near_repeated_passages([paragraph, edited, unrelated, paragraph, "Similar Posts"])
    assert len(pairs) == 1
    (pair,) = pairs
    assert {pair.hash_a, pair.hash_b} == {passage_hash(paragraph), passage_hash(edited)}
    assert pair.hash_a < pair.hash_b
    assert 0.8 <= pair.jaccard < 1.0


def test_near_repeats_reject_heavier_edits() -> None:
    paragraph = " ".join(f"word{i}" for i in range(20))
    heavy = paragraph.replace("word5", "x").replace("word12", "y").replace("word17", "z")
    assert near_repeated_passages([paragraph, heavy]) == []


def test_boilerplate_per_site() -> None:
    closed = passage_hash("Kommentare sind geschlossen.")
    similar = passage_hash("Similar Posts")
    occurrences = [
        PassageOccurrence(1, "a.example", closed),
        PassageOccurrence(2, "a.example", closed),
        PassageOccurrence(3, "a.example", closed),
        PassageOccurrence(3, "a.example", closed),  # twice in one doc counts once
        PassageOccurrence(4, "b.example", similar),
        PassageOccurrence(5, "c.example", similar),  # two sites, one doc each
        PassageOccurrence(6, "b.example", similar),
    ]
    assert boilerplate_hashes(occurrences, min_docs=3) == {closed}
    assert boilerplate_hashes(occurrences, min_docs=2) == {closed, similar}


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
