"""Turning query rows into what a page shows: clusters diffed, changes as paragraph diffs.

Pure functions over the records of report/records.py; the SQL is in report/queries.py
and the HTML in the templates.
"""

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

from report.diffs import marked, marks, paragraph_diff, paragraphs
from report.queries import Row
from report.records import Change, Cluster, Member, ShownMember

T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last may be shorter), lazily."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def clusters(rows: Iterable[tuple[int, int, Member]], text_chars: int) -> Iterator[Cluster]:
    """Group the streamed member rows by cluster and diff each shown member with the first."""
    current: list[Member] = []
    key: tuple[int, int] | None = None
    for cluster_id, size, member in rows:
        if key is not None and key[0] != cluster_id:
            yield cluster(key[0], key[1], current, text_chars)
            current = []
        key = (cluster_id, size)
        current.append(member)
    if key is not None:
        yield cluster(key[0], key[1], current, text_chars)


def cluster(cluster_id: int, size: int, members: Sequence[Member], text_chars: int) -> Cluster:
    """A cluster: the members with text side by side, differing words marked.

    Each other member's words that the canonical (first) one lacks are marked in it; the
    canonical's words that any shown member lacks are marked in the canonical.
    """
    with_text = [m for m in members if m.text is not None]
    listed = tuple(m for m in members if m.text is None)
    if not with_text:
        return Cluster(cluster_id, size, (), listed)
    first, *others = with_text
    base = paragraphs(first.text or "")
    base_marks: set[tuple[int, int]] = set()
    shown_others = []
    for member in others:
        text = paragraphs(member.text or "")
        left, right = marks(base, text)
        base_marks |= left
        shown_others.append(ShownMember(member, marked(text, right), member.text_chars > text_chars))
    canonical = ShownMember(first, marked(base, base_marks), first.text_chars > text_chars)
    return Cluster(cluster_id, size, (canonical, *shown_others), listed)


def change(row: Row, before: str, after: str, cut: bool) -> Change:
    """A page_changes row with its texts, as a paragraph diff."""
    url, from_version, to_version, detected_at, title_before, title_after, added, removed, similarity = row
    return Change(
        str(url), int(from_version), int(to_version), detected_at, title_before, title_after,
        int(added or 0), int(removed or 0), similarity, paragraph_diff(before, after), cut,
    )
