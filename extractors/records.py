"""Records produced by the extractors: citations in seeds, extracted documents, passages."""

from dataclasses import dataclass
from enum import StrEnum


class CitationKind(StrEnum):
    """Where in a seed a cited URL was found."""

    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"


@dataclass(frozen=True, slots=True)
class Citation:
    """A URL cited by a seed: as written, and normalized (the frontier key)."""

    url: str
    raw: str
    kind: CitationKind


@dataclass(frozen=True, slots=True)
class RejectedCitation:
    """A link found in a seed that is not fetched, with the reason (never dropped silently)."""

    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class CitationScan:
    """Everything a seed cites.

    `citations` are absolute, normalized http(s) URLs. `other_schemes` are absolute URLs
    with another scheme (ftp:, file:, gopher:...): kept so the fetcher's guard records
    them as refused rather than dropping them. `rejected` are links that are not URLs
    to fetch at all (javascript:, relative without a base, malformed), with the reason.
    """

    citations: tuple[Citation, ...]
    rejected: tuple[RejectedCitation, ...]
    other_schemes: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class ExtractedDocument:
    """Main text and metadata of one page or seed, as extracted (stateless)."""

    text: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    sitename: str | None = None
    hostname: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None


@dataclass(frozen=True, slots=True)
class Passage:
    """A paragraph of a document, in document order."""

    ordinal: int
    text: str
