"""Re-extraction from the raw archive as plain functions (no Prefect, no network).

Pages are grouped the way the ingest flow keys them (normalized final URL), so a page
reached under two URLs is extracted once and both URLs are linked to its document.
"""

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from extractors.content import Extraction
from fetching.charset import codec_name, decode_html
from pipeline.extraction import ExtractionPool
from pipeline.steps import BatchReport, extraction_reason, page_key, page_row, store_page
from storage.archive import ArchivedKey, ArchivedResponse, ArchiveStore
from storage.outcomes import DocumentReason, Stage
from storage.records import DocumentRow
from storage.store import Store
from storage.versions import VersionStore


@dataclass(frozen=True, slots=True)
class PageGroup:
    """The stored responses of one page: the newest is extracted, every URL is linked."""

    key: str
    urls: tuple[str, ...]
    source: str  # the requested URL whose stored response is the newest
    served_from: str  # the URL that response came from (its final URL), as the flow keys it


def group_pages(keys: Sequence[ArchivedKey]) -> list[PageGroup]:
    """Stored responses grouped by page (normalized final URL), in order of first fetch."""
    groups: dict[str, list[ArchivedKey]] = {}
    for key in keys:
        groups.setdefault(page_key(key.final_url or key.url), []).append(key)
    out = []
    for page, members in groups.items():
        newest = max(members, key=lambda k: (k.fetched_at, k.url))
        out.append(PageGroup(page, tuple(k.url for k in members), newest.url,
                             newest.final_url or newest.url))
    return out


def stored_text(response: ArchivedResponse) -> str:
    """The body as text, decoded with the charset the fetch chose (detected again if unknown)."""
    codec = codec_name(response.charset)
    if codec is not None:
        # errors="replace" as the fetch did for a right label with a few stray bytes.
        return response.body.decode(codec, errors="replace")
    decoded = decode_html(response.body, None)
    return decoded.text if decoded is not None else response.body.decode("utf-8", "replace")


def extract_groups(
    archive: ArchiveStore, pool: ExtractionPool, groups: Sequence[PageGroup]
) -> list[Extraction]:
    """Extract each group's newest stored response across the pool's processes."""
    responses = archive.responses([g.source for g in groups])
    return pool.extract([(stored_text(responses[g.source]), g.served_from) for g in groups])


def store_reextracted(
    store: Store,
    archive: ArchiveStore,
    groups: Sequence[PageGroup],
    extractions: Sequence[Extraction],
    at: datetime,
) -> BatchReport:
    """Write the documents whose text or metadata changed; link every URL to its page."""
    counts: Counter[tuple[Stage, str]] = Counter()
    rows = [page_row(g.served_from, e, at) for g, e in zip(groups, extractions, strict=True)]
    stored = archive.documents([r.doc_id for r in rows if r is not None])
    with store.transaction():
        for group, extraction, row in zip(groups, extractions, rows, strict=True):
            counts[Stage.EXTRACT, extraction_reason(extraction)] += 1
            if row is not None and same_document(stored.get(row.doc_id), row):
                for url in group.urls:  # a URL may have led nowhere before (no main text)
                    store.link_url(url, row.doc_id, row.content.canonical_url)
                counts[Stage.DOCUMENTS, DocumentReason.PAGE_UNCHANGED] += 1
                continue
            changed = store_page(store, group.urls, row)
            if row is not None:
                VersionStore(store.con).reextracted(group.urls, row)
            if changed is not None:
                reason = (
                    DocumentReason.PAGE_CHANGED if changed else DocumentReason.PAGE_METADATA_CHANGED
                )
                counts[Stage.DOCUMENTS, reason] += 1
    return BatchReport(tuple((s, r, n) for (s, r), n in sorted(counts.items())))


def same_document(stored: DocumentRow | None, new: DocumentRow) -> bool:
    """True when text and metadata are equal (when and by which version aside)."""
    if stored is None:
        return False
    aligned = dataclasses.replace(
        stored, extracted_at=new.extracted_at, extractor=new.extractor,
        extractor_version=new.extractor_version,
    )
    return aligned == new
