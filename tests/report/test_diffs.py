"""report/diffs.py: words and paragraphs that differ, as segments."""

from report.diffs import marks, paragraph_diff, paragraphs, segments
from report.records import Segment


def _changed(segs: tuple[Segment, ...]) -> list[str]:
    return [s.text for s in segs if s.changed]


def test_words_that_differ_are_marked_on_each_side() -> None:
    a = paragraphs("Talks met on Monday in Geneva.\nSecond paragraph stays the same here.")
    b = paragraphs("Talks met on Monday morning in Geneva.\nSecond paragraph stays the same here.")
    left, right = marks(a, b)
    assert left == set()
    assert right == {(0, 4)}
    assert _changed(segments(b[0], [w for p, w in right if p == 0])) == ["morning"]


def test_a_replaced_word_is_marked_on_both_sides_without_its_space() -> None:
    a, b = paragraphs("Readers sent us this."), paragraphs("Viewers sent us this.")
    left, right = marks(a, b)
    segs = segments(a[0], [w for _, w in left])
    assert segs[0] == Segment("Readers", True) and segs[1] == Segment(" ", False)
    assert _changed(segments(b[0], [w for _, w in right])) == ["Viewers"]


def test_unlike_paragraphs_are_marked_whole() -> None:
    a, b = paragraphs("one two three four"), paragraphs("five six seven eight")
    left, right = marks(a, b)
    assert left == {(0, i) for i in range(4)} and right == {(0, i) for i in range(4)}


def test_added_and_removed_paragraphs() -> None:
    a, b = paragraphs("A para.\nB para."), paragraphs("A para.\nB para.\nC para.")
    assert marks(a, b) == (set(), {(2, 0), (2, 1)})
    assert marks(b, a) == ({(2, 0), (2, 1)}, set())


def test_paragraph_diff_kinds_and_skipped_context() -> None:
    before = "\n".join(f"Paragraph {i} of the page is here." for i in range(10))
    after = before.replace("Paragraph 5 of the page", "Paragraph 5 of this page") + "\nA new end."
    lines = paragraph_diff(before, after)
    kinds = [line.kind for line in lines]
    assert kinds == ["skipped", "same", "edited", "same", "skipped", "same", "added"]
    assert lines[0].skipped == 4 and lines[4].skipped == 2
    edited = lines[2]
    assert _changed(edited.before) == ["the"] and _changed(edited.after) == ["this"]
    assert lines[-1].after == (Segment("A new end.", False),)


def test_equal_texts_have_no_changes() -> None:
    # A change of the title alone: the text shows as one run of unchanged paragraphs.
    text = "Same.\nAlso same.\nStill the same."
    lines = paragraph_diff(text, text)
    assert [(line.kind, line.skipped) for line in lines] == [("skipped", 3)]
    assert marks(paragraphs(text), paragraphs(text)) == (set(), set())
