"""The quote step of a run: quotations in seeds, checked against the pages they cite.

1. Seeds new, edited, or searched with another --min-quote-words are searched again
   (extractors/quotes.py); their quotations and checks are replaced.
2. Pages new or changed since last indexed get their word 3-grams in the corpus index,
   and are looked at for every quotation sharing enough of them (dedup/quotes.py):
   the cost follows the new pages, not the corpus.
3. Quotations new to the index are looked up in it the same way.
4. Citations whose checked text differs from the one to check now (the version cited,
   else the current page) are checked again.

Each part commits with the marker it was derived from, so a killed run leaves nothing
the next one does not redo.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from dedup.hashing import text_hash
from dedup.normalize import normalize
from dedup.quotes import (
    GRAM,
    NEAR_CONTAINMENT,
    MatchResult,
    PageTokens,
    QuoteTokens,
    gram_hashes,
    match,
    quote_tokens,
)
from extractors.quotes import find_quotes
from pipeline.steps import BatchReport
from storage.outcomes import QuoteReason, Stage
from storage.quotes import (
    Candidate,
    DueCheck,
    QuoteResultRow,
    QuoteRow,
    QuoteScanRow,
    QuoteStore,
    SightingRow,
)

# Pages indexed per transaction: bounds the memory of one batch of postings.
INDEX_BATCH = 2000
# Tokenized cited pages kept while checking (seeds citing the same page are neighbours
# in the checks' order only by chance; this bounds the memory, not the work).
_PAGES_KEPT = 512


def update_quotes(
    store: QuoteStore, min_words: int, at: datetime, indexed: Callable[[], None] = lambda: None
) -> BatchReport:
    """Run the whole quote step (`indexed` is called between indexing and checking)."""
    counts: Counter[str] = Counter()
    scan_seeds(store, min_words, at, counts)
    while index_pages(store, INDEX_BATCH, counts):
        pass
    index_quotes(store, counts)
    indexed()
    check_citations(store, at, counts)
    return BatchReport(tuple((Stage.QUOTES, str(r), n) for r, n in sorted(counts.items()) if n))


def quote_rows(seed_doc_id: int, text: str, min_words: int) -> tuple[list[QuoteRow], int, int]:
    """The rows of a seed's quotations, and its unbalanced and too-short counts."""
    scan = find_quotes(text, min_words)
    rows = []
    for q in scan.quotes:
        norm = normalize(q.text)
        rows.append(QuoteRow(
            seed_doc_id, q.ordinal, q.text, norm, text_hash(norm), q.start, q.end, q.words,
            q.depth, q.truncated,
        ))
    return rows, scan.unbalanced, scan.too_short


def scan_seeds(store: QuoteStore, min_words: int, at: datetime, counts: Counter[str]) -> None:
    """Search new or edited seeds for quotations (one transaction)."""
    seeds = store.seeds_to_scan(min_words)
    if not seeds:
        return
    scans, quotes = [], []
    for doc_id, sha, text in seeds:
        rows, unbalanced, too_short = quote_rows(doc_id, text, min_words)
        scans.append(QuoteScanRow(doc_id, sha, min_words, len(rows), unbalanced, too_short, at))
        quotes += rows
        counts[QuoteReason.SEEDS_SCANNED] += 1
        counts[QuoteReason.FOUND] += len(rows)
        counts[QuoteReason.UNBALANCED] += unbalanced
        counts[QuoteReason.TOO_SHORT] += too_short
    with store.transaction():
        store.replace_quotes(scans, quotes)
        store.drop_orphan_quotes()


def index_pages(store: QuoteStore, limit: int, counts: Counter[str]) -> bool:
    """Index up to `limit` new or changed pages and find quotations in them; False when none."""
    pages = store.pages_to_index(limit)
    if not pages:
        return False
    grams = gram_hashes([text for _, _, text in pages])
    with store.transaction():
        store.replace_index([(d, s) for d, s, _ in pages], grams)
        found = sightings(store.candidates(doc_ids=[d for d, _, _ in pages], near=NEAR_CONTAINMENT))
        store.save_sightings(found)
    counts[QuoteReason.PAGES_INDEXED] += len(pages)
    counts[QuoteReason.SIGHTINGS] += len(found)
    return True


def index_quotes(store: QuoteStore, counts: Counter[str]) -> None:
    """Add quotations new to the index and find the pages that hold them."""
    new = store.unindexed_quotes()
    if not new:
        return
    texts = [norm for _, norm in new]
    grams = gram_hashes(texts)
    totals = [max(1, len(quote_tokens(t)) - GRAM + 1) for t in texts]
    with store.transaction():
        store.add_quote_grams([k for k, _ in new], grams, totals)
        found = sightings(store.candidates(quote_keys=[k for k, _ in new], near=NEAR_CONTAINMENT))
        store.save_sightings(found)
    counts[QuoteReason.SIGHTINGS] += len(found)


def sightings(candidates: Sequence[Candidate]) -> list[SightingRow]:
    """The candidates whose page really holds the quotation (exact or near)."""
    pages: dict[int, PageTokens] = {}
    quotes: dict[int, QuoteTokens] = {}
    found = []
    for c in candidates:
        page = pages.get(c.doc_id)
        if page is None:
            page = pages[c.doc_id] = PageTokens.of(c.text)
        quote = quotes.get(c.quote_key)
        if quote is None:
            quote = quotes[c.quote_key] = QuoteTokens.of(quote_tokens(c.norm_text))
        hit = match(quote, page, where=False)
        if hit.result in (MatchResult.EXACT, MatchResult.NEAR):
            found.append(SightingRow(
                c.quote_key, c.doc_id, str(hit.result), hit.containment, c.content_sha256
            ))
    return found


def check_citations(store: QuoteStore, at: datetime, counts: Counter[str]) -> None:
    """Check every quotation against each cited page whose text to check has changed."""
    due = store.due_checks()
    if not due:
        return
    rows = []
    pages: dict[str, PageTokens] = {}
    quotes = store.seed_quotes([c.seed_doc_id for c in due])
    # Hashed once per quotation, whatever the number of pages its seed cites.
    hashed = {
        (seed, ordinal): QuoteTokens.of(quote_tokens(text))
        for seed, listed in quotes.items() for ordinal, text in listed
    }
    for check in due:
        page = None
        if check.text is not None and check.content_sha256 is not None:
            page = pages.get(check.content_sha256)
            if page is None:
                if len(pages) >= _PAGES_KEPT:
                    pages.clear()
                page = pages[check.content_sha256] = PageTokens.of(check.text)
        for ordinal, _ in quotes.get(check.seed_doc_id, []):
            rows.append(check_one(check, page, ordinal, hashed[check.seed_doc_id, ordinal], at))
            counts[rows[-1].result] += 1
    with store.transaction():
        store.save_results(due, rows)


def check_one(
    check: DueCheck, page: PageTokens | None, ordinal: int, quote: QuoteTokens, at: datetime
) -> QuoteResultRow:
    """The result of one quotation against one cited page's text (`page`: its tokens)."""
    if page is None or check.text is None:
        return QuoteResultRow(
            check.seed_doc_id, ordinal, check.url, str(MatchResult.UNAVAILABLE), None, None,
            None, None, at,
        )
    hit = match(quote, page)
    matched = check.text[hit.start : hit.end] if hit.start is not None else None
    return QuoteResultRow(
        check.seed_doc_id, ordinal, check.url, str(hit.result), hit.containment, matched,
        check.version, check.content_sha256, at,
    )
