"""Rows storage writes that no upstream record describes on its own."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from storage.outcomes import Step


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """A document as stored: identity, metadata and text."""

    doc_id: int
    kind: str
    url: str
    text: str
    extracted_at: datetime
    extractor: str
    extractor_version: str
    title: str | None = None
    author: str | None = None
    published: str | None = None
    sitename: str | None = None
    hostname: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None

    @property
    def content_sha256(self) -> str:
        """SHA-256 of the text, the document's exact-content identity."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SeedRow:
    """A seed file as read by a run."""

    path: str
    doc_id: int | None
    sha256: str | None
    size: int | None
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
    """An item a dedup step could not process in a run, and why (the `step_failures` table)."""

    stage: Step
    item: int | None  # documents.doc_id or passages.norm_hash; None for a whole step
    error: str
