"""The pipeline's steps as plain functions over records and resources (no Prefect here)."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from dedup import keys_and_content_hash, passage_key
from extractors.content import EXTRACTOR, EXTRACTOR_VERSION, Extraction, Html
from extractors.passages import split_passages
from extractors.records import ExtractedDocument, Passage
from extractors.urls import InvalidUrl, normalize_url
from fetching.records import FetchResult, Outcome
from pipeline.seeds import SeedDocument
from pipeline.versions import Observed, record_versions
from storage.archive import ArchivedResponse
from storage.bulk import archived_response
from storage.outcomes import CitationReason, DocumentReason, Stage, VersionReason
from storage.records import DocumentRow, document_id
from storage.store import Store
from storage.versions import VersionStore

SEED_EXTRACTOR_VERSION = "1"


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What storing one batch did, counted by (stage, reason)."""

    counts: tuple[tuple[Stage, str, int], ...]
    # Documents whose text the batch changed: the ones to sign for dedup.
    changed: tuple[int, ...] = ()
    # (content_sha256, dedup.content_hash) of the texts stored, found while keying their
    # passages: signing them needs it, and need not normalize the texts again (issue 20).
    content_hashes: tuple[tuple[str, int], ...] = ()


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def save_seeds(store: Store, seeds: Sequence[SeedDocument]) -> BatchReport:
    """Write seed rows, seed documents with passages, and citations, in one transaction."""
    counts: Counter[tuple[Stage, str]] = Counter()
    at = now()
    with store.transaction():
        for seed in seeds:
            store.save_seed(seed.row, at)
            counts[Stage.SEEDS, _seed_reason(seed)] += 1
            if seed.text is None or seed.row.doc_id is None:
                continue
            doc = DocumentRow(
                doc_id=seed.row.doc_id, kind="seed", url=seed.url, extracted_at=at,
                extractor="seed", extractor_version=SEED_EXTRACTOR_VERSION,
                content=ExtractedDocument(text=seed.text),
            )
            changed = store.save_document(doc, seed.passages, passage_keys(seed.passages))
            reason = DocumentReason.SEED_CHANGED if changed else DocumentReason.SEED_UNCHANGED
            counts[Stage.DOCUMENTS, reason] += 1
            store.save_citations(seed.row.doc_id, seed.citations, at)
            VersionStore(store.con).cite_current([c.url for c in seed.citations])
            counts[Stage.CITATIONS, CitationReason.FOUND] += len(seed.citations)
            if seed.row.rejected_links:
                counts[Stage.CITATIONS, CitationReason.REJECTED_LINK] += seed.row.rejected_links
    return _report(counts)


def passage_keys(passages: Sequence[Passage]) -> list[tuple[int, bool]]:
    """Each passage's normalized hash and whether it is long enough to count as a repeat."""
    return [passage_key(p.text) for p in passages]


def _seed_reason(seed: SeedDocument) -> str:
    """'ok', or the reason codes (the text before each ':') of a skipped or cut seed."""
    if seed.row.reason is None:
        return seed.row.status
    codes = [part.split(":")[0].strip() for part in seed.row.reason.split(";")]
    return f"{seed.row.status}: {', '.join(codes)}"


def pages_to_extract(results: Sequence[FetchResult]) -> list[tuple[Html, str]]:
    """(html, url) of the results that carry a page; html is the body when it is UTF-8.

    A UTF-8 body decodes to the fetch's text with errors replaced, whatever way the
    fetcher chose UTF-8 (fetching/charset.py: a strict decode that succeeded, or one
    with replacement), so `extract_page` gets the same text from it; bytes pickle to
    the extraction workers at memory speed, where a str is encoded on the way and
    decoded again on arrival.
    """
    return [(_page_input(r), r.final_url or r.url) for r in results if r.ok]


def _page_input(result: FetchResult) -> Html:
    if result.charset == "utf-8" and result.body is not None:
        return result.body
    return result.text or ""


def save_batch(
    store: Store,
    run_id: str,
    results: Sequence[FetchResult],
    extractions: Sequence[Extraction],
    gone_after_runs: int = 2,
) -> BatchReport:
    """Write a batch's attempts, URL states, extracted documents and page versions."""
    counts: Counter[tuple[Stage, str]] = Counter()
    pending = iter(extractions)
    at = now()
    docs: list[DocumentRow] = []
    links: list[tuple[str, int | None, str | None]] = []
    observed: list[Observed] = []
    textless: list[ArchivedResponse] = []  # ok pages without main text: kept, no version
    for result in results:
        counts[Stage.FETCH, result.outcome] += 1
        if not result.ok:
            continue
        extraction = next(pending)
        counts[Stage.EXTRACT, extraction_reason(extraction)] += 1
        doc = page_row(result.final_url or result.url, extraction, at)
        links.append((result.url, *((doc.doc_id, doc.content.canonical_url) if doc else (None, None))))
        if doc is not None:
            docs.append(doc)
            observed.append(Observed(result.url, doc, archived_response(result)))
        else:
            textless.append(archived_response(result))
    passages = [split_passages(doc.content.text) for doc in docs]
    keyed = [keys_and_content_hash([p.text for p in ps]) for ps in passages]
    # A 304, or a 200 with the very body stored last time (fetching.records.Validators).
    unchanged = [(r.url, r.attempts[-1].started_at) for r in results
                 if r.outcome is Outcome.NOT_MODIFIED and r.attempts]
    # One statement per table for the whole batch (storage/bulk.py), in one transaction;
    # the same rows as storing each result with `store_page`, in order.
    with store.transaction():
        store.save_fetches(run_id, results, gone_after_runs)
        changed = store.save_documents(docs, passages, [keys for keys, _ in keyed])
        store.link_urls(links)
        vstore = VersionStore(store.con)
        versions = record_versions(vstore, run_id, observed, unchanged, at)
        vstore.keep_responses(run_id, textless, at)
    for flag in changed:
        reason = DocumentReason.PAGE_CHANGED if flag else DocumentReason.PAGE_UNCHANGED
        counts[Stage.DOCUMENTS, reason] += 1
    for kind, n in ((VersionReason.NEW, versions.new), (VersionReason.RETURNED,
                    versions.returned), (VersionReason.CHANGES, versions.changes)):
        if n:
            counts[Stage.VERSIONS, kind] += n
    fresh = dict.fromkeys(doc.doc_id for doc, flag in zip(docs, changed, strict=True) if flag)
    hashes = {doc.content_sha256: h for doc, (_, h) in zip(docs, keyed, strict=True)}
    return BatchReport(_report(counts).counts, tuple(fresh), tuple(hashes.items()))


def extraction_reason(extraction: Extraction) -> str:
    """The reason code of an extraction (an `ExtractReason` value)."""
    return extraction.reason.split(":")[0]


def store_page(store: Store, urls: Sequence[str], doc: DocumentRow | None) -> bool | None:
    """Write a page's document, passages and URL links; True if its text changed, None if no doc."""
    if doc is None:
        for url in urls:
            store.link_url(url, None, None)
        return None
    passages = split_passages(doc.content.text)
    changed = store.save_document(doc, passages, passage_keys(passages))
    for url in urls:
        store.link_url(url, doc.doc_id, doc.content.canonical_url)
    return changed


def page_key(url: str) -> str:
    """A page's identity: its normalized URL after redirects (two URLs, one page)."""
    try:
        return normalize_url(url)
    except InvalidUrl:
        return url


def page_row(page_url: str, extraction: Extraction, at: datetime) -> DocumentRow | None:
    """A page's document row, keyed by the URL it was served from; None without main text."""
    extracted = extraction.document
    if extracted is None:
        return None
    key = page_key(page_url)
    # trafilatura gives no host name for IP addresses or localhost: fall back to the URL's.
    content = replace(extracted, hostname=extracted.hostname or urlsplit(key).hostname)
    return DocumentRow(
        doc_id=document_id("page", key), kind="page", url=key, extracted_at=at,
        extractor=EXTRACTOR, extractor_version=EXTRACTOR_VERSION, content=content,
    )


def _report(counts: Counter[tuple[Stage, str]]) -> BatchReport:
    return BatchReport(tuple((s, r, n) for (s, r), n in sorted(counts.items())))
