"""The quote finder: marks, apostrophes, nesting, unbalanced marks, wrapped lines, length."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extractors.quotes import MAX_WORDS, find_quotes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "seeds"


def texts(text: str, min_words: int = 3) -> list[str]:
    return [q.text for q in find_quotes(text, min_words).quotes]


@pytest.mark.parametrize(
    ("raw", "quote"),
    [
        ("He said “we will not back down” today.", "we will not back down"),
        ('He said "we will not back down" today.', "we will not back down"),
        ("Er sagte „wir geben nicht nach“ heute.", "wir geben nicht nach"),
        ("Il a dit «nous ne céderons pas» hier.", "nous ne céderons pas"),
        ("Il a dit « nous ne céderons pas » hier.", "nous ne céderons pas"),
        ("Er sagte ‹wir geben nicht nach› heute.", "wir geben nicht nach"),
        ("He said ‘we will not back down’ today.", "we will not back down"),
    ],
)
def test_each_kind_of_mark(raw: str, quote: str) -> None:
    assert texts(raw) == [quote]


def test_apostrophes_are_not_quotes() -> None:
    raw = "Russia’s envoy didn’t say ‘we won’t sign the treaty’ in the ’90s, the ministers’ aides said."
    scan = find_quotes(raw)
    assert [q.text for q in scan.quotes] == ["we won’t sign the treaty"]
    assert scan.unbalanced == 0


def test_apostrophes_alone_give_nothing() -> None:
    scan = find_quotes("It’s the ministers’ and Russia’s view, rock ’n’ roll in the ‘90s.")
    assert (scan.quotes, scan.unbalanced) == ((), 0)


def test_quotes_span_hard_wrapped_lines() -> None:
    raw = "Lavrov said: “I imagine the choreography and,\nexcuse me, that’s political\nKama Sutra,” he said."
    (quote,) = find_quotes(raw).quotes
    assert quote.text == "I imagine the choreography and, excuse me, that’s political Kama Sutra,"
    assert raw[quote.start : quote.end].split() == quote.text.split()
    assert quote.words == 11


def test_a_blank_line_ends_an_open_quote() -> None:
    scan = find_quotes("He said “this runs on\n\ninto the next paragraph” and “then this one here”.")
    assert [q.text for q in scan.quotes] == ["then this one here"]
    assert scan.unbalanced == 2  # the opener left open, and the closer in the next paragraph


def test_nested_quotes_both_count() -> None:
    raw = "She said “the minister told us ‘no deal is possible now’ and left the room” later."
    scan = find_quotes(raw)
    assert [(q.text, q.depth) for q in scan.quotes] == [
        ("the minister told us ‘no deal is possible now’ and left the room", 0),
        ("no deal is possible now", 1),
    ]
    assert [q.ordinal for q in scan.quotes] == [0, 1]


def test_unbalanced_marks_are_skipped_and_counted() -> None:
    scan = find_quotes("He said “this never closes. Then a stray » closer and «a fine quote here».")
    assert [q.text for q in scan.quotes] == ["a fine quote here"]
    assert scan.unbalanced == 2
    scan = find_quotes("He said “this never closes at all and the text ends")
    assert (scan.quotes, scan.unbalanced) == ((), 1)
    scan = find_quotes("A stray ” closer and a stray » one.")
    assert (scan.quotes, scan.unbalanced) == ((), 2)


def test_a_mismatched_closer_closes_the_outer_quote() -> None:
    scan = find_quotes("“outer words here ‘inner never closed” after.")
    assert [q.text for q in scan.quotes] == ["outer words here ‘inner never closed"]
    assert scan.unbalanced == 1


def test_min_words() -> None:
    raw = "He “affirmed” support for “territorial integrity” and “sovereignty and integrity”."
    scan = find_quotes(raw)
    assert [q.text for q in scan.quotes] == ["sovereignty and integrity"]
    assert scan.too_short == 2
    assert texts(raw, min_words=1) == ["affirmed", "territorial integrity", "sovereignty and integrity"]


def test_max_words() -> None:
    words = [f"w{i}" for i in range(MAX_WORDS + 50)]
    (quote,) = find_quotes("“" + " ".join(words) + "”").quotes
    assert quote.truncated
    assert quote.words == MAX_WORDS
    assert quote.text.split() == words[:MAX_WORDS]
    with pytest.raises(ValueError):
        find_quotes("x", min_words=0)


def test_example_seed_000() -> None:
    text = next(EXAMPLES.glob("000_*")).read_text(encoding="utf-8")
    scan = find_quotes(text)
    assert len(scan.quotes) == 4
    assert any("political Kama Sutra" in q.text for q in scan.quotes)


_WORDS = st.lists(st.sampled_from(["the", "envoy", "said", "talks", "will", "go", "on"]),
                  min_size=1, max_size=12)


@given(_WORDS, _WORDS, _WORDS, st.sampled_from(["“”", "«»", "„“", '""', "‘’", "‹›"]))
def test_a_quoted_phrase_is_found_where_it_is(
    before: list[str], inside: list[str], after: list[str], marks: str
) -> None:
    text = " ".join(before) + " " + marks[0] + " ".join(inside) + marks[1] + " " + " ".join(after)
    scan = find_quotes(text, min_words=1)
    assert [q.text for q in scan.quotes] == [" ".join(inside)]
    (quote,) = scan.quotes
    assert text[quote.start : quote.end] == quote.text
    assert scan.unbalanced == 0


@given(st.text(alphabet=st.sampled_from("ab “”‘’«»\"'\n.,"), max_size=80))
def test_any_text_gives_quotes_inside_it(text: str) -> None:
    scan = find_quotes(text, min_words=1)
    for quote in scan.quotes:
        assert 0 <= quote.start <= quote.end <= len(text)
        assert quote.text.split() == text[quote.start : quote.end].split()
    assert scan.unbalanced >= 0
