"""What a database built night by night must share with one fresh run over the final pages.

Every derived structure is compared, not only the views: a stale band key or passage
index entry is harmless until a later edit makes it a candidate (issue 13), so the
indexes themselves must equal what a fresh run builds. Canonical documents are left
out: the documented rule picks the earliest first seen, which a fresh run cannot know.
"""

from pathlib import Path

import duckdb

from dedup.quotes import PageTokens, match, quote_tokens

STATE = {
    "documents": "SELECT doc_id, kind, url, content_sha256, title, text FROM documents",
    "passages": "SELECT doc_id, ordinal, text, norm_hash, counts_for_repeats FROM passages",
    "doc_signatures": (
        "SELECT doc_id, content_sha256, norm_content_hash, shingles, params_fingerprint, "
        "signature FROM doc_signatures"
    ),
    "doc_bands": "SELECT doc_id, band, band_key FROM doc_bands",
    "duplicate_pairs": "SELECT doc_a, doc_b, round(jaccard, 12), exact FROM duplicate_pairs",
    "near_duplicates": (
        "SELECT doc_a, doc_b, url_a, url_b, round(jaccard, 12), exact FROM near_duplicates"
    ),
    "cluster_members": "SELECT list(doc_id ORDER BY doc_id) FROM clusters GROUP BY cluster_id",
    "corpus": "SELECT count(*), count(cluster_id) FROM corpus",
    "repeated_passages": (
        "SELECT passage_hash, text, occurrences, documents, sites, is_boilerplate "
        "FROM repeated_passages"
    ),
    "near_repeated_passages": (
        "SELECT hash_a, hash_b, round(jaccard, 12), text_a, text_b FROM near_repeated_passages"
    ),
    "passage_index": "SELECT passage_hash, shingles FROM passage_index",
    "passage_bands": "SELECT passage_hash, band, band_key FROM passage_bands",
    "passage_pairs": "SELECT hash_a, hash_b, round(jaccard, 12) FROM passage_pairs",
    # The history differs (issue 16); what each URL leads to now does not. (Its response
    # may: a body whose text and title are unchanged stores nothing new.)
    "current_versions": (
        "SELECT url, content_sha256, title, text, page_url, doc_id FROM page_versions "
        "WHERE is_current"
    ),
    # Quotations and the corpus index follow the current texts. The checks against cited
    # pages follow the version as cited, which is history (a fresh run cites the final
    # pages): `quote_checks_recomputed` checks those instead.
    "quotes": (
        "SELECT seed_doc_id, ordinal, text, norm_text, quote_key, start_char, end_char, words, "
        "depth, truncated FROM quotes"
    ),
    "quote_scans": (
        "SELECT seed_doc_id, content_sha256, min_words, quotes, unbalanced, too_short "
        "FROM quote_scans"
    ),
    "quote_grams": "SELECT quote_key, gram, grams, total FROM quote_grams",
    "quote_index": "SELECT gram, doc_id FROM quote_index",
    "quote_index_docs": "SELECT doc_id, content_sha256, grams FROM quote_index_docs",
    "quote_sightings": (
        "SELECT quote_key, doc_id, result, round(containment, 12), content_sha256 "
        "FROM quote_sightings"
    ),
    "quote_check_keys": "SELECT seed_doc_id, quote_ordinal, url FROM quote_checks",
    # Who published first is by first_seen here (the pages have one date): history.
    "passage_origins": "SELECT passage_hash, text, kind, copies FROM passage_origins",
}
# What two databases with the same history (a killed run completed by the next) share too.
HISTORY = {
    "quote_checks": (
        "SELECT seed_doc_id, quote_ordinal, url, result, round(containment, 12), matched_text, "
        "version FROM quote_checks"
    ),
    "citation_support": (
        "SELECT seed_doc_id, url, quotes_checked, exact, near, absent, unavailable, "
        "round(passage_share, 12) FROM citation_support"
    ),
    "quote_found_elsewhere": (
        "SELECT seed_doc_id, quote_ordinal, documents, exact_documents, earliest_doc_id "
        "FROM quote_found_elsewhere"
    ),
}


def state(db: str | Path | duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Every compared table and view of the database (a path or a connection), rows sorted."""
    if isinstance(db, duckdb.DuckDBPyConnection):
        return {name: sorted(db.execute(sql).fetchall(), key=repr) for name, sql in STATE.items()}
    with duckdb.connect(str(db), read_only=True) as con:
        return state(con)


def history(db: str | Path) -> dict[str, list[tuple[object, ...]]]:
    """The history-dependent views of HISTORY, rows sorted."""
    with duckdb.connect(str(db), read_only=True) as con:
        return {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in HISTORY.items()}


def quote_checks_recomputed(db: str | Path) -> list[tuple[object, ...]]:
    """Checks of the database that differ from checking each quote again against the text
    of the version it names (the one cited): what a fresh run over those texts stores."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            """
            SELECT c.quote, c.url, c.result, c.containment, c.matched_text, v.text
            FROM quote_checks c
            LEFT JOIN page_versions v ON v.url = c.url AND v.version = c.version
            """).fetchall()
    wrong = []
    for quote, _url, result, containment, matched, text in rows:
        if text is None:
            expected: tuple[object, ...] = ("unavailable", None, None)
        else:
            hit = match(quote_tokens(quote), PageTokens.of(text))
            words = text[hit.start : hit.end] if hit.start is not None else None
            expected = (str(hit.result), round(hit.containment, 12), words)
        got = (result, None if containment is None else round(containment, 12), matched)
        if got != expected:
            wrong.append((quote, got, expected))
    return wrong


def differences(
    nightly: dict[str, list[tuple[object, ...]]], fresh: dict[str, list[tuple[object, ...]]]
) -> dict[str, tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
    """For each table that differs: (rows only the nightly one has, rows only the fresh one has)."""
    out = {}
    for name in STATE:
        a, b = set(map(repr, nightly[name])), set(map(repr, fresh[name]))
        if a != b or len(nightly[name]) != len(fresh[name]):
            only_a = [r for r in nightly[name] if repr(r) not in b]
            only_b = [r for r in fresh[name] if repr(r) not in a]
            out[name] = (only_a[:5], only_b[:5])
    return out
