"""Rows storage writes that no upstream record describes on its own."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from extractors.records import ExtractedDocument, Passage
from fetching.records import Attempt
from storage.outcomes import Step


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """A document as stored: identity and provenance, and the extracted text and metadata.

    Its columns (storage.columns) are these fields with `content`'s in its place; the
    `documents` table adds text_chars, content_sha256 and first_seen (storage.bulk).
    """

    doc_id: int
    kind: str
    url: str
    extracted_at: datetime
    extractor: str
    extractor_version: str
    content: ExtractedDocument

    @property
    def content_sha256(self) -> str:
        """SHA-256 of the text, the document's exact-content identity."""
        return hashlib.sha256(self.content.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class PassageRow:
    """A passage as stored (the `passages` table): its document, and its normalized key."""

    doc_id: int
    passage: Passage
    norm_hash: int
    counts_for_repeats: bool


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """A fetch attempt as stored (the `fetches` table): its run, and whether it was the last."""

    run_id: str
    attempt: Attempt
    is_final: bool
    body_sha256: str | None = None  # of the body the final attempt received


@dataclass(frozen=True, slots=True)
class SeedRow:
    """A seed file as read by a run (the `seeds` table, but for first_seen and last_seen)."""

    path: str
    doc_id: int | None
    sha256: str | None
    bytes: int | None
    encoding: str | None
    status: str
    reason: str | None
    citations: int
    rejected_links: int


def document_id(kind: str, key: str) -> int:
    """A stable 63-bit id for a document key (seed path or page URL), same in every run."""
    digest = hashlib.sha256(f"{kind}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass(frozen=True, slots=True)
class StepFailure:
    """An item a dedup step could not process in a run, and why (a `step_failures` row)."""

    stage: Step
    item: int | None  # documents.doc_id or passages.norm_hash; None for a whole step
    error: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A raw response as `versions` keeps it: metadata, and where its body is archived."""

    final_url: str | None
    fetched_at: datetime
    status_code: int
    headers: tuple[tuple[str, str], ...]
    content_type: str | None
    charset: str | None
    body_sha256: str
    body_bytes: int
    body_codec: str
    archive_file: str


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One distinct version of a cited URL (a `versions` row; its text goes to version_texts).

    `source` is 'fetch' or 'memento'; a memento carries its datetime and URI.
    """

    url: str
    version: int
    doc_id: int
    page_url: str
    content_sha256: str
    source: str
    first_seen: datetime
    last_seen: datetime
    extracted_at: datetime
    extractor_version: str
    memento_datetime: datetime | None
    memento_uri: str | None
    content: ExtractedDocument
    response: StoredResponse


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """A change of a URL from one version to another (a `version_changes` row)."""

    url: str
    from_version: int
    to_version: int
    detected_at: datetime
    run_id: str
    paragraphs_added: int
    paragraphs_removed: int
    similarity: float
    diff: str
