"""Dead cited URLs recovered from a web archive (Memento, RFC 7089): who asks, what is kept.

A URL is asked about once it is dead: it answered before and is now gone for
--gone-after-runs runs (link_rot), or it never answered and its latest fetch said it is
gone (404, 410, no DNS). The datetime asked for is when the URL was first cited, so the
capture is the page as its citer saw it. A lookup that found a capture, or found that
there is none, is not repeated; one that failed (a timeout, a 5xx) is asked again by the
next run. A memento becomes a version with source 'memento' (pipeline.versions); for a
URL that never answered it is also the URL's document, so the corpus holds its text.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from extractors.content import Extraction
from extractors.passages import split_passages
from fetching.memento import MementoOutcome, MementoResult
from pipeline.steps import BatchReport, extraction_reason, page_row, passage_keys
from pipeline.versions import Observed, VersionSource, record_versions
from storage.bulk import archived_response
from storage.outcomes import Stage
from storage.store import Store
from storage.versions import MementoLookup, VersionStore

_SETTLED = (str(MementoOutcome.OK), str(MementoOutcome.NONE))


def memento_candidates(store: Store, urls: Sequence[str]) -> list[tuple[str, datetime]]:
    """(url, first cited) of the dead URLs among `urls` that no lookup has settled."""
    if not urls:
        return []
    rows = store.con.execute(
        """
        SELECT u.url, min(c.first_seen) FROM urls u JOIN citations c ON c.url = u.url
        WHERE u.url IN (SELECT unnest(?))
          AND ((u.last_ok_at IS NOT NULL AND u.is_gone)
               OR (u.last_ok_at IS NULL AND u.consecutive_gone >= 1))
          AND NOT EXISTS (SELECT 1 FROM memento_lookups m
                          WHERE m.url = u.url AND m.outcome IN (SELECT unnest(?)))
        GROUP BY u.url ORDER BY u.url
        """,
        [list(urls), list(_SETTLED)],
    ).fetchall()
    return [(url, cited) for url, cited in rows]


def pages_of(results: Sequence[MementoResult]) -> list[tuple[str, str]]:
    """(html, original url) of the mementos fetched, to extract as the original page."""
    return [(r.fetch.text or "", r.url) for r in results if _page(r) and r.fetch is not None]


def save_mementos(
    store: Store,
    run_id: str,
    results: Sequence[MementoResult],
    extractions: Sequence[Extraction],
    at: datetime,
) -> BatchReport:
    """Store the lookups, each memento as a version, and a document for URLs with none."""
    counts: Counter[tuple[Stage, str]] = Counter()
    pending = iter(extractions)
    observed: list[Observed] = []
    for result in results:
        counts[Stage.MEMENTO, result.outcome] += 1
        if not _page(result) or result.fetch is None:
            continue
        extraction = next(pending)
        counts[Stage.EXTRACT, extraction_reason(extraction)] += 1
        doc = page_row(result.url, extraction, at)
        if doc is not None:
            # The archive keys bodies by the cited URL; final_url is the memento fetched.
            response = replace(archived_response(result.fetch), url=result.url)
            observed.append(Observed(
                result.url, doc, response, VersionSource.MEMENTO,
                result.memento_datetime, result.memento_uri,
            ))
    vstore = VersionStore(store.con)
    with store.transaction():
        without = _without_version(store, [o.url for o in observed])
        first = [o for o in observed if o.url in without]
        docs = [o.doc for o in first]
        passages = [split_passages(d.content.text) for d in docs]
        changed = store.save_documents(docs, passages, [passage_keys(p) for p in passages])
        store.link_urls([(o.url, o.doc.doc_id, o.doc.content.canonical_url) for o in first])
        report = record_versions(vstore, run_id, observed, [], at)
        versions = dict(report.versions)
        vstore.log_lookups([_lookup(r, run_id, at, versions.get(r.url)) for r in results])
    fresh = tuple(d.doc_id for d, flag in zip(docs, changed, strict=True) if flag)
    return BatchReport(tuple((s, r, n) for (s, r), n in sorted(counts.items())), fresh)


def _page(result: MementoResult) -> bool:
    return result.outcome == MementoOutcome.OK and result.fetch is not None and result.fetch.ok


def _without_version(store: Store, urls: Sequence[str]) -> set[str]:
    """The URLs among `urls` that lead to no version yet (never answered)."""
    if not urls:
        return set()
    rows = store.con.execute(
        "SELECT url FROM urls WHERE url IN (SELECT unnest(?)) AND current_version IS NULL",
        [list(urls)],
    ).fetchall()
    return {url for (url,) in rows}


def _lookup(result: MementoResult, run_id: str, at: datetime, version: int | None) -> MementoLookup:
    return MementoLookup(
        url=result.url, run_id=run_id, asked_at=at, timegate=result.timegate,
        accept_datetime=result.accept_datetime, outcome=result.outcome,
        memento_uri=result.memento_uri, memento_datetime=result.memento_datetime,
        version=version, error=result.error,
    )
