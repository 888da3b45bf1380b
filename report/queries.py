"""The report's SQL: each page kind read from the published database's tables and views.

Results stream (`fetchmany`) through a cursor of their own, so the report's memory stays
bounded whatever the corpus size. Texts are cut in SQL (`left`) to what a page shows.
The views of later issues (`quote_checks`, `passage_origins`) are read only when the
database has them; their columns are looked up by name.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import duckdb

from report.records import (
    Failure,
    Gone,
    LatestRun,
    Member,
    Origin,
    PassageDocument,
    QuoteCheck,
    Repeated,
    RunPoint,
)
from storage.outcomes import DedupReason, Stage, VersionReason

Row = tuple[Any, ...]
_CHUNK = 500

# Runs shown in the overview's chart (the latest ones).
CHART_RUNS = 366


def has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when the database has a table or view called `name`."""
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])


def stream(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()
) -> Iterator[Row]:
    """The rows of `sql`, fetched in chunks on a cursor of their own."""
    cursor = con.cursor()
    try:
        cursor.execute(sql, list(params))
        while rows := cursor.fetchmany(_CHUNK):
            yield from rows
    finally:
        cursor.close()


def count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> int:
    """The single number `sql` returns."""
    rows = con.execute(sql, list(params)).fetchall()
    return int(rows[0][0] or 0) if rows else 0


# overview -----------------------------------------------------------------------------

def latest_run(con: duckdb.DuckDBPyConnection) -> LatestRun | None:
    """The latest run, as run_summary shows it."""
    rows = con.execute(
        "SELECT run_id, status, started_at, finished_at, seconds, seeds, citations, "
        "urls_fetched, fetched_ok, fetch_failed, documents_changed, clusters, problems, error "
        "FROM run_summary ORDER BY started_at DESC, run_id DESC LIMIT 1"
    ).fetchall()
    return LatestRun(*rows[0]) if rows else None


def run_points(con: duckdb.DuckDBPyConnection, limit: int = CHART_RUNS) -> list[RunPoint]:
    """Each run's figures for the chart, oldest first: the latest `limit` runs."""
    rows = con.execute(
        f"""
        WITH counted AS (
            SELECT run_id,
                   sum(count) FILTER (WHERE stage = '{Stage.VERSIONS}'
                                      AND reason = '{VersionReason.NEW}') AS new_versions,
                   sum(count) FILTER (WHERE stage = '{Stage.VERSIONS}'
                                      AND reason = '{VersionReason.RETURNED}') AS returned,
                   sum(count) FILTER (WHERE stage = '{Stage.VERSIONS}'
                                      AND reason = '{VersionReason.CHANGES}') AS changes,
                   sum(count) FILTER (WHERE stage = '{Stage.DEDUP}'
                                      AND reason = '{DedupReason.PAIRS_VERIFIED}') AS pairs
            FROM run_counts GROUP BY run_id
        )
        SELECT * FROM (
            SELECT s.run_id, s.started_at, s.status, s.urls_fetched, s.fetch_failed,
                   -- a new version that is not a change is a URL's first: a new page
                   greatest(coalesce(c.new_versions, 0) - coalesce(c.changes, 0)
                            + coalesce(c.returned, 0), 0),
                   coalesce(c.changes, 0), coalesce(c.pairs, 0)
            FROM run_summary s LEFT JOIN counted c USING (run_id)
            ORDER BY s.started_at DESC, s.run_id DESC LIMIT ?
        ) ORDER BY started_at, run_id
        """,
        [limit],
    ).fetchall()
    return [RunPoint(*(r[:3]), *(int(v or 0) for v in r[3:])) for r in rows]


TOTALS = {
    "pages": "SELECT count(*) FROM documents WHERE kind = 'page'",
    "seeds": "SELECT count(*) FROM documents WHERE kind = 'seed'",
    "duplicate clusters": "SELECT count(DISTINCT cluster_id) FROM clusters",
    "near-duplicate pairs": "SELECT count(*) FROM near_duplicates",
    "repeated passages": "SELECT count(*) FROM repeated_passages",
    "page changes": "SELECT count(*) FROM page_changes",
    "gone pages": "SELECT count(*) FROM link_rot",
    "fetch failures": "SELECT count(*) FROM fetch_failures",
}


def totals(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """What the database holds, by name."""
    return [(name, count(con, sql)) for name, sql in TOTALS.items()]


# duplicate clusters -------------------------------------------------------------------

def cluster_members(
    con: duckdb.DuckDBPyConnection, shown: int, listed: int, text_chars: int
) -> Iterator[tuple[int, int, Member]]:
    """(cluster_id, size, member) of every cluster, largest first, canonical first within.

    The first `shown` members of a cluster carry their text (cut to `text_chars`); the
    next `listed` come without; further members are not read.
    """
    sql = """
        WITH sizes AS (SELECT cluster_id, count(*) AS size FROM clusters GROUP BY cluster_id),
        ranked AS (
            SELECT c.cluster_id, c.doc_id, c.is_canonical, s.size, p.jaccard,
                   row_number() OVER (PARTITION BY c.cluster_id
                                      ORDER BY c.is_canonical DESC, p.jaccard DESC NULLS LAST,
                                               d.url, c.doc_id) AS rank
            FROM clusters c
            JOIN sizes s ON s.cluster_id = c.cluster_id
            JOIN documents d ON d.doc_id = c.doc_id
            LEFT JOIN duplicate_pairs p
              ON p.doc_a = least(c.doc_id, c.canonical_doc_id)
             AND p.doc_b = greatest(c.doc_id, c.canonical_doc_id)
        )
        SELECT r.cluster_id, r.size, r.doc_id, d.url, d.title, d.published, d.first_seen,
               r.is_canonical, r.jaccard,
               CASE WHEN r.rank <= ? THEN left(d.text, ?) END, coalesce(d.text_chars, 0)
        FROM ranked r JOIN documents d ON d.doc_id = r.doc_id
        WHERE r.rank <= ?
        ORDER BY r.size DESC, r.cluster_id, r.rank
    """
    for row in stream(con, sql, [shown, text_chars, shown + listed]):
        yield int(row[0]), int(row[1]), Member(*row[2:])


# repeated passages --------------------------------------------------------------------

def has_origins(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has the passage_origins view (a database before migration 80 has not)."""
    return has_relation(con, "passage_origins")


def repeated_passages(
    con: duckdb.DuckDBPyConnection, limit: int, documents: int, text_chars: int
) -> Iterator[Repeated]:
    """The `limit` most repeated passages, each with its first `documents` documents."""
    origins = has_origins(con)
    # An exact group's origin: a near-repeat cluster's row can carry the same hash.
    origin_select, origin_join = (
        ("o.origin_url::VARCHAR, o.origin_date::VARCHAR, o.date_source::VARCHAR",
         "LEFT JOIN passage_origins o ON o.passage_hash = t.passage_hash AND o.kind = 'exact'")
        if origins else ("NULL, NULL, NULL", "")
    )
    sql = f"""
        WITH top AS (
            SELECT * FROM repeated_passages
            ORDER BY documents DESC, occurrences DESC, passage_hash LIMIT ?
        ),
        docs AS (
            SELECT h.norm_hash, d.url, d.title, coalesce(d.hostname, d.sitename, d.kind) AS site,
                   row_number() OVER (PARTITION BY h.norm_hash ORDER BY d.url) AS rn
            FROM (SELECT DISTINCT p.norm_hash, p.doc_id FROM passages p
                  JOIN top ON top.passage_hash = p.norm_hash) h
            JOIN documents d ON d.doc_id = h.doc_id
        ),
        shown AS (
            SELECT norm_hash, list([url, title, site] ORDER BY url) AS docs
            FROM docs WHERE rn <= ? GROUP BY norm_hash
        )
        SELECT t.passage_hash, left(t.text, ?), t.occurrences, t.documents, t.sites,
               t.is_boilerplate, s.docs, {origin_select}
        FROM top t LEFT JOIN shown s ON s.norm_hash = t.passage_hash {origin_join}
        ORDER BY t.documents DESC, t.occurrences DESC, t.passage_hash
    """
    for row in stream(con, sql, [limit, documents, text_chars]):
        shown = tuple(PassageDocument(str(u), t, s) for u, t, s in (row[6] or []))
        origin_row = Origin(row[7], row[8], row[9]) if origins and row[7] else None
        yield Repeated(
            int(row[0]), str(row[1] or ""), int(row[2]), int(row[3]), int(row[4]),
            bool(row[5]), shown, origin_row,
        )


# page changes -------------------------------------------------------------------------

def changes(
    con: duckdb.DuckDBPyConnection, limit: int, text_chars: int
) -> Iterator[tuple[Row, str, str, bool]]:
    """The newest `limit` page changes: (page_changes row, text before, after, cut)."""
    sql = """
        SELECT c.url, c.from_version, c.to_version, c.detected_at, c.title_before,
               c.title_after, c.paragraphs_added, c.paragraphs_removed, c.similarity,
               left(ta.text, ?), left(tb.text, ?),
               length(ta.text) > ? OR length(tb.text) > ?
        FROM page_changes c
        JOIN versions a ON a.url = c.url AND a.version = c.from_version
        JOIN version_texts ta ON ta.content_sha256 = a.content_sha256
        JOIN versions b ON b.url = c.url AND b.version = c.to_version
        JOIN version_texts tb ON tb.content_sha256 = b.content_sha256
        ORDER BY c.detected_at DESC, c.url
        LIMIT ?
    """
    for row in stream(con, sql, [text_chars] * 4 + [limit]):
        yield row[:9], str(row[9] or ""), str(row[10] or ""), bool(row[11])


def gone(con: duckdb.DuckDBPyConnection, limit: int) -> Iterator[Gone]:
    """Cited pages that are gone (link_rot), the latest gone first."""
    sql = """
        SELECT url, last_ok_at, gone_since, last_outcome, last_status_code, versions_kept
        FROM link_rot ORDER BY gone_since DESC NULLS LAST, url LIMIT ?
    """
    for row in stream(con, sql, [limit]):
        yield Gone(str(row[0]), row[1], row[2], row[3], row[4], int(row[5] or 0))


# quote checks -------------------------------------------------------------------------

def has_quote_checks(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has the quote_checks view (a database before migration 80 has not)."""
    return has_relation(con, "quote_checks")


def quote_checks(
    con: duckdb.DuckDBPyConnection, limit: int, text_chars: int
) -> Iterator[QuoteCheck]:
    """Quote checks by seed, then quote (in the seed's order), then cited URL."""
    sql = """
        SELECT seed, left(quote, ?), url, result, containment, left(matched_text, ?), version
        FROM quote_checks ORDER BY seed, quote_ordinal, quote, url LIMIT ?
    """
    for row in stream(con, sql, [text_chars, text_chars, limit]):
        yield QuoteCheck(str(row[0] or ""), str(row[1] or ""), str(row[2] or ""),
                         str(row[3] or ""), row[4], row[5], row[6])


# fetch failures -----------------------------------------------------------------------

def failure_reasons(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Failed URLs by reason, most frequent first."""
    rows = con.execute(
        "SELECT outcome, count(*) FROM fetch_failures GROUP BY outcome ORDER BY 2 DESC, 1"
    ).fetchall()
    return [(str(r[0]), int(r[1])) for r in rows]


def failures(con: duckdb.DuckDBPyConnection, limit: int, error_chars: int) -> Iterator[Failure]:
    """URLs whose latest fetch failed, by reason then URL."""
    sql = """
        SELECT url, outcome, status_code, left(error, ?), fetched_at, failures
        FROM fetch_failures ORDER BY outcome, url LIMIT ?
    """
    for row in stream(con, sql, [error_chars, limit]):
        yield Failure(str(row[0]), str(row[1]), row[2], row[3], row[4], int(row[5] or 0))


# search -------------------------------------------------------------------------------

def documents(con: duckdb.DuckDBPyConnection, title_chars: int) -> Iterator[tuple[str, str]]:
    """(url, title) of every fetched page, for the search index."""
    sql = "SELECT url, left(coalesce(title, ''), ?) FROM documents WHERE kind = 'page' ORDER BY url"
    for row in stream(con, sql, [title_chars]):
        yield str(row[0]), str(row[1])
