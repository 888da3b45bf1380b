"""Word and paragraph diffs (difflib) as segments the templates mark up; no HTML here.

Texts are one paragraph per line, as `documents.text` and `page_versions.text` hold them.
Paragraphs are aligned first (cheap: whole lines compare by hash), then only the pairs
that differ are diffed word by word, so a long text that is mostly equal costs little.
"""

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

from report.records import DiffLine, Segment

Paragraphs = list[list[str]]  # each paragraph as its words, each word with its trailing space
Marks = set[tuple[int, int]]  # (paragraph, word) positions that differ

_WORD = re.compile(r"\S+\s*")
# Paragraphs less alike than this are shown as one removed and one added, not word by word
# (and are not diffed word by word: SequenceMatcher is quadratic on unlike sequences).
EDIT_RATIO = 0.5
# Unchanged paragraphs shown around each change of a page.
CONTEXT = 1


def paragraphs(text: str) -> Paragraphs:
    """The text's non-empty lines, each split into words (trailing spaces kept)."""
    return [_WORD.findall(line) for line in text.splitlines() if line.strip()]


def _keys(words: Sequence[str]) -> list[str]:
    return [w.rstrip() for w in words]


def _alike(a: Sequence[str], b: Sequence[str]) -> SequenceMatcher[str] | None:
    """A word matcher of two paragraphs, or None when they are too unlike to diff."""
    matcher = SequenceMatcher(None, _keys(a), _keys(b), autojunk=False)
    if matcher.real_quick_ratio() < EDIT_RATIO or matcher.quick_ratio() < EDIT_RATIO:
        return None
    return matcher


def _word_marks(a: Sequence[str], b: Sequence[str]) -> tuple[set[int], set[int]]:
    """Positions of the words of `a` and of `b` that the other lacks."""
    matcher = _alike(a, b)
    if matcher is None:
        return set(range(len(a))), set(range(len(b)))
    left: set[int] = set()
    right: set[int] = set()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            left.update(range(i1, i2))
            right.update(range(j1, j2))
    return left, right


def _paragraph_ops(a: Paragraphs, b: Paragraphs) -> Sequence[tuple[str, int, int, int, int]]:
    matcher = SequenceMatcher(None, ["".join(p) for p in a], ["".join(p) for p in b], autojunk=False)
    return matcher.get_opcodes()


def marks(a: Paragraphs, b: Paragraphs) -> tuple[Marks, Marks]:
    """The words of `a` and of `b` that differ, paragraphs aligned first."""
    left: Marks = set()
    right: Marks = set()
    for tag, i1, i2, j1, j2 in _paragraph_ops(a, b):
        if tag == "equal":
            continue
        for i, j in zip(range(i1, i2), range(j1, j2), strict=False):
            wl, wr = _word_marks(a[i], b[j])
            left.update((i, w) for w in wl)
            right.update((j, w) for w in wr)
        paired = min(i2 - i1, j2 - j1)
        left.update((i, w) for i in range(i1 + paired, i2) for w in range(len(a[i])))
        right.update((j, w) for j in range(j1 + paired, j2) for w in range(len(b[j])))
    return left, right


def segments(words: Sequence[str], changed: Iterable[int]) -> tuple[Segment, ...]:
    """A paragraph's words as runs of unchanged and changed words."""
    flags = set(changed)
    out: list[Segment] = []
    run: list[str] = []
    state = False
    for index, word in enumerate(words):
        flag = index in flags
        if run and flag != state:
            out.extend(_run(run, state))
            run = []
        run.append(word)
        state = flag
    if run:
        out.extend(_run(run, state))
    return tuple(out)


def _run(words: Sequence[str], changed: bool) -> tuple[Segment, ...]:
    """A run of words; a changed run's trailing space stays unmarked."""
    text = "".join(words)
    if not changed or text == text.rstrip():
        return (Segment(text, changed),)
    stripped = text.rstrip()
    return (Segment(stripped, True), Segment(text[len(stripped):], False))


def marked(text: Paragraphs, changed: Marks) -> tuple[tuple[Segment, ...], ...]:
    """Every paragraph of a text as segments, the positions in `changed` marked."""
    return tuple(
        segments(words, (w for w in range(len(words)) if (i, w) in changed))
        for i, words in enumerate(text)
    )


def _plain(words: Sequence[str]) -> tuple[Segment, ...]:
    """A whole paragraph, unmarked (an added or removed one shows by its line's colour)."""
    return (Segment("".join(words), False),) if words else ()


def paragraph_diff(before: str, after: str, context: int = CONTEXT) -> tuple[DiffLine, ...]:
    """A page change as paragraphs: removed, added, edited (words marked), some context."""
    a, b = paragraphs(before), paragraphs(after)
    lines: list[DiffLine] = []
    ops = _paragraph_ops(a, b)
    for number, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            lines.extend(_context(a, i1, i2, context, first=number == 0, last=number == len(ops) - 1))
            continue
        for i, j in zip(range(i1, i2), range(j1, j2), strict=False):
            matcher = _alike(a[i], b[j])
            if matcher is None:
                lines.append(DiffLine("removed", _plain(a[i]), ()))
                lines.append(DiffLine("added", (), _plain(b[j])))
                continue
            wl, wr = _word_marks(a[i], b[j])
            lines.append(DiffLine("edited", segments(a[i], wl), segments(b[j], wr)))
        paired = min(i2 - i1, j2 - j1)
        lines.extend(DiffLine("removed", _plain(a[i]), ()) for i in range(i1 + paired, i2))
        lines.extend(DiffLine("added", (), _plain(b[j])) for j in range(j1 + paired, j2))
    return tuple(lines)


def _context(
    a: Paragraphs, i1: int, i2: int, context: int, first: bool, last: bool
) -> list[DiffLine]:
    """Unchanged paragraphs i1..i2: `context` of them beside each change, the rest skipped."""
    head = 0 if first else context
    tail = 0 if last else context
    if i2 - i1 <= head + tail + 1:
        return [DiffLine("same", _plain(a[i]), _plain(a[i])) for i in range(i1, i2)]
    out = [DiffLine("same", _plain(a[i]), _plain(a[i])) for i in range(i1, i1 + head)]
    out.append(DiffLine("skipped", (), (), skipped=i2 - i1 - head - tail))
    out.extend(DiffLine("same", _plain(a[i]), _plain(a[i])) for i in range(i2 - tail, i2))
    return out
