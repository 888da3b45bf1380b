from extractors.passages import looks_hard_wrapped, split_passages

HEADLINE = "Borrell says that any discussion between the US and Russia about security in Europe must lead the EU"


def test_one_paragraph_per_line_keeps_repeated_headlines_apart() -> None:
    text = f"{HEADLINE}\n\nFirst paragraph. " + "x " * 200 + f"\n\n{HEADLINE}\n{HEADLINE}\n\nEnd."
    texts = [p.text for p in split_passages(text)]
    assert texts.count(HEADLINE) == 3


def test_hard_wrapped_text_joins_lines_of_a_paragraph() -> None:
    text = (
        "Russia's top diplomat on Monday likened the European Union's policy of pushing back,\n"
        "constraining and engaging with Moscow to a choreography that he did not appreciate.\n"
        "\n"
        "Brussels' high representative Josep Borrell outlined the multilateral strategy in\n"
        "June as the sides reached their lowest level in relations due to disagreements.\n"
    )
    assert looks_hard_wrapped(text)
    passages = split_passages(text)
    assert len(passages) == 2
    assert passages[0].text.startswith("Russia's top diplomat") and "constraining" in passages[0].text
    assert [p.ordinal for p in passages] == [0, 1]


def test_markdown_headings_and_items_stay_separate() -> None:
    text = "# Title\nSome text that\nwraps here.\n\n- item one\n- item two\n"
    assert [p.text for p in split_passages(text, markdown=True)] == [
        "# Title", "Some text that wraps here.", "- item one", "- item two",
    ]


def test_empty_text_has_no_passages() -> None:
    assert split_passages("") == ()
    assert split_passages("\n \n\t\n") == ()


def test_a_block_of_many_wrapped_lines_is_one_passage() -> None:
    # Issue 17: joined once, not by growing a string per line (quadratic).
    passages = split_passages("a wrapped line\n" * 50_000, markdown=True)
    assert len(passages) == 1 and passages[0].text == " ".join(["a wrapped line"] * 50_000)
