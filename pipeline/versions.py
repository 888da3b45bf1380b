"""Page versions of a stored batch: new, unchanged, or back to an earlier one (issue 16).

A version is a distinct (text, title) of a cited URL. A fetch that shows the current
one extends its last_seen; one that shows an earlier one makes that one current again
(its text is not stored twice) and logs a change back; anything else is a new version,
with its raw response archived. A memento (a web archive's capture) is a version with
source 'memento': it never replaces a fetched current version, since the live page is
what a reader of the corpus gets today, but it is current for a URL that has no other.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pipeline.changes import describe_change
from storage.archive import ArchivedResponse
from storage.records import ChangeRow, DocumentRow, StoredResponse, VersionRow
from storage.versions import KnownVersions, VersionStore


class VersionSource(StrEnum):
    """Where a version came from: `versions.source`."""

    FETCH = "fetch"
    MEMENTO = "memento"


@dataclass(frozen=True, slots=True)
class Observed:
    """What a cited URL showed: the document extracted and the raw response it came in."""

    url: str
    doc: DocumentRow
    response: ArchivedResponse
    source: VersionSource = VersionSource.FETCH
    memento_datetime: datetime | None = None
    memento_uri: str | None = None


@dataclass(frozen=True, slots=True)
class VersionsReport:
    """What recording a batch's observations did, and the version each URL got."""

    new: int
    returned: int
    changes: int
    versions: tuple[tuple[str, int], ...]


def record_versions(
    vstore: VersionStore,
    run_id: str,
    observed: Sequence[Observed],
    unchanged: Sequence[tuple[str, datetime]],
    at: datetime,
) -> VersionsReport:
    """Store the batch's versions; `unchanged` are (url, fetch time) of not_modified fetches."""
    known = vstore.known([o.url for o in observed] + [u for u, _ in unchanged])
    seen: list[tuple[str, int, datetime]] = []
    for url, when in unchanged:
        version = known[url].current if url in known else None
        if version is not None:
            seen.append((url, version, when))
    current: list[tuple[str, int]] = []
    moves: list[tuple[str, int, int]] = []  # (url, from, to) of fetched versions
    new: list[tuple[Observed, int]] = []
    assigned: list[tuple[str, int]] = []
    for obs in observed:
        k = known.get(obs.url, KnownVersions(None, {}, 0))
        fetched = obs.source is VersionSource.FETCH
        version = k.by_content.get((obs.doc.content_sha256, obs.doc.content.title))
        if version is None:
            version = k.latest + 1
            new.append((obs, version))
            known[obs.url] = KnownVersions(
                k.current, {**k.by_content, (obs.doc.content_sha256, obs.doc.content.title):
                            version}, version,
            )
        elif fetched:
            seen.append((obs.url, version, obs.response.fetched_at))
        assigned.append((obs.url, version))
        if version != k.current and (fetched or k.current is None):
            current.append((obs.url, version))
            known[obs.url] = KnownVersions(version, known[obs.url].by_content,
                                           known[obs.url].latest)
            if fetched and k.current is not None:
                moves.append((obs.url, k.current, version))
    stored = vstore.archive(run_id, [obs.response for obs, _ in new], at)
    vstore.add([_row(obs, version, r) for (obs, version), r in zip(new, stored, strict=True)])
    vstore.seen(seen)
    vstore.make_current(current)
    changes = _changes(vstore, run_id, moves, observed, at)
    vstore.log_changes(changes)
    vstore.cite_current([url for url, _ in assigned])
    returned = sum(1 for _, old, to in moves if to < old)
    return VersionsReport(len(new), returned, len(changes), tuple(assigned))


def _row(obs: Observed, version: int, response: StoredResponse) -> VersionRow:
    """The `versions` row of a new version."""
    return VersionRow(
        url=obs.url, version=version, doc_id=obs.doc.doc_id, page_url=obs.doc.url,
        content_sha256=obs.doc.content_sha256, source=str(obs.source),
        first_seen=obs.response.fetched_at, last_seen=obs.response.fetched_at,
        extracted_at=obs.doc.extracted_at, extractor_version=obs.doc.extractor_version,
        memento_datetime=obs.memento_datetime, memento_uri=obs.memento_uri,
        content=obs.doc.content, response=response,
    )


def _changes(
    vstore: VersionStore,
    run_id: str,
    moves: Sequence[tuple[str, int, int]],
    observed: Sequence[Observed],
    at: datetime,
) -> list[ChangeRow]:
    """A change row, with its diff, for each URL that moved to another version."""
    before = vstore.version_texts([(url, old) for url, old, _ in moves])
    after = {obs.url: obs.doc.content.text for obs in observed}
    out = []
    for url, old, to in moves:
        change = describe_change(
            before.get((url, old), ""), after[url], f"{url} v{old}", f"{url} v{to}"
        )
        out.append(ChangeRow(
            url=url, from_version=old, to_version=to, detected_at=at, run_id=run_id,
            paragraphs_added=change.paragraphs_added,
            paragraphs_removed=change.paragraphs_removed,
            similarity=change.similarity, diff=change.diff,
        ))
    return out
