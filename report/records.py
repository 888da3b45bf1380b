"""What the report's pages show, read from the database: frozen, typed records."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of words in a diffed text; `changed` when the other side lacks it."""

    text: str
    changed: bool


@dataclass(frozen=True, slots=True)
class RunPoint:
    """One run's headline figures: a point of the overview's chart."""

    run_id: str
    started_at: datetime | None
    status: str
    fetched: int
    failed: int
    new_pages: int
    changed_pages: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class LatestRun:
    """The latest run as run_summary has it."""

    run_id: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None
    seeds: int
    citations: int
    urls_fetched: int
    fetched_ok: int
    fetch_failed: int
    documents_changed: int
    clusters: int
    problems: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class Member:
    """A document of a duplicate cluster; `text` only for the members shown side by side."""

    doc_id: int
    url: str
    title: str | None
    published: str | None
    first_seen: datetime | None
    is_canonical: bool
    jaccard: float | None
    text: str | None
    text_chars: int


@dataclass(frozen=True, slots=True)
class ShownMember:
    """A member shown side by side: its facts and its text as diffed segments."""

    member: Member
    paragraphs: tuple[tuple[Segment, ...], ...]
    cut: bool


@dataclass(frozen=True, slots=True)
class Cluster:
    """A near-duplicate cluster: its members shown side by side, then the rest listed."""

    cluster_id: int
    size: int
    shown: tuple[ShownMember, ...]
    listed: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class PassageDocument:
    """A document a repeated passage occurs in."""

    url: str
    title: str | None
    site: str | None


@dataclass(frozen=True, slots=True)
class Origin:
    """Who published a passage first (the passage_origins view, when the database has it)."""

    url: str | None
    date: str | None
    date_source: str | None


@dataclass(frozen=True, slots=True)
class Repeated:
    """A repeated passage with the documents it occurs in (the first of them)."""

    passage_hash: int
    text: str
    occurrences: int
    documents: int
    sites: int
    is_boilerplate: bool
    shown: tuple[PassageDocument, ...]
    origin: Origin | None


@dataclass(frozen=True, slots=True)
class DiffLine:
    """A paragraph of a page change: kept, added, removed, or edited (words marked)."""

    kind: str  # 'same', 'added', 'removed', 'edited', or 'skipped' (unchanged, not shown)
    before: tuple[Segment, ...]
    after: tuple[Segment, ...]
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class Change:
    """An observed change of a cited page, as a paragraph diff."""

    url: str
    from_version: int
    to_version: int
    detected_at: datetime | None
    title_before: str | None
    title_after: str | None
    paragraphs_added: int
    paragraphs_removed: int
    similarity: float | None
    lines: tuple[DiffLine, ...]
    cut: bool


@dataclass(frozen=True, slots=True)
class Gone:
    """A cited page that answered once and is gone now (link_rot)."""

    url: str
    last_ok_at: datetime | None
    gone_since: datetime | None
    last_outcome: str | None
    last_status_code: int | None
    versions_kept: int


@dataclass(frozen=True, slots=True)
class QuoteCheck:
    """A seed's quote checked against a page it cites."""

    seed: str
    quote: str
    url: str
    result: str
    containment: float | None
    matched_text: str | None
    version: int | None


@dataclass(frozen=True, slots=True)
class Failure:
    """A URL whose latest fetch failed."""

    url: str
    outcome: str
    status_code: int | None
    error: str | None
    fetched_at: datetime | None
    failures: int


@dataclass(frozen=True, slots=True)
class SearchEntry:
    """A URL or title the search page finds, and the report page that shows it."""

    url: str
    title: str
    kind: str
    href: str
