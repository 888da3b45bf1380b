"""Quotations in DuckDB: quotes per seed, checks per citation, the corpus 3-gram index.

Every table here is derived from `documents`, `citations` and `versions`, and each
write carries the marker it was derived from (a seed's content_sha256 and setting, a
page's content_sha256, a checked text's sha), so a run redoes only what changed, and a
run killed between two transactions leaves nothing that the next one would not redo.
"""

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from storage.bulk import registered
from storage.changes import mark, mark_values
from storage.columns import arrow_table
from storage.tx import transaction


@dataclass(frozen=True, slots=True)
class QuoteRow:
    """A row of `quotes`."""

    seed_doc_id: int
    ordinal: int
    text: str
    norm_text: str
    quote_key: int
    start_char: int
    end_char: int
    words: int
    depth: int
    truncated: bool


@dataclass(frozen=True, slots=True)
class QuoteScanRow:
    """A row of `quote_scans`: a seed searched for quotations."""

    seed_doc_id: int
    content_sha256: str
    min_words: int
    quotes: int
    unbalanced: int
    too_short: int
    scanned_at: datetime


@dataclass(frozen=True, slots=True)
class QuoteResultRow:
    """A row of `quote_results`: one quotation checked against one cited page."""

    seed_doc_id: int
    ordinal: int
    url: str
    result: str
    containment: float | None
    matched_text: str | None
    version: int | None
    content_sha256: str | None
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class SightingRow:
    """A row of `quote_sightings`: a page whose current text holds a quotation."""

    quote_key: int
    doc_id: int
    result: str
    containment: float
    content_sha256: str


@dataclass(frozen=True, slots=True)
class DueCheck:
    """A citation whose quotations must be (re)checked, and the page text to check."""

    seed_doc_id: int
    url: str
    version: int | None
    content_sha256: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A (quotation, page) pair sharing enough 3-grams in the index to be looked at."""

    quote_key: int
    norm_text: str
    doc_id: int
    content_sha256: str
    text: str


# Ids per constant IN list (DuckDB pushes such a list into the table scan as a filter).
_IN_LIST = 2000


class QuoteStore:
    """Reads and writes of the quote tables over the run's read-write connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Commit everything written inside, or nothing."""
        return transaction(self.con)

    # quotations in seeds ----------------------------------------------------------------

    def seeds_to_scan(self, min_words: int) -> list[tuple[int, str, str]]:
        """(doc_id, content_sha256, text) of seeds new, edited, or scanned with another setting."""
        return [(int(d), str(s), str(t)) for d, s, t in self.con.execute(
            """
            SELECT d.doc_id, d.content_sha256, d.text FROM documents d
            LEFT JOIN quote_scans q ON q.seed_doc_id = d.doc_id
            WHERE d.kind = 'seed' AND (q.seed_doc_id IS NULL
                  OR q.content_sha256 IS DISTINCT FROM d.content_sha256 OR q.min_words <> ?)
            ORDER BY d.doc_id
            """, [min_words]).fetchall()]

    def replace_quotes(self, scans: Sequence[QuoteScanRow], quotes: Sequence[QuoteRow]) -> None:
        """Replace these seeds' quotations (their checks go with them; they are redone)."""
        with registered(self.con, "new_scans", arrow_table(QuoteScanRow, scans)):
            mark(self.con, "docs", "SELECT seed_doc_id FROM new_scans")
            for table in ("quotes", "quote_results", "quote_scans"):
                self.con.execute(
                    f"DELETE FROM {table} WHERE seed_doc_id IN (SELECT seed_doc_id FROM new_scans)"
                )
            self.con.execute("INSERT INTO quote_scans SELECT * FROM new_scans")
        if quotes:
            with registered(self.con, "new_quotes", arrow_table(QuoteRow, quotes)):
                self.con.execute("INSERT INTO quotes SELECT * FROM new_quotes")

    def drop_orphan_quotes(self) -> None:
        """Forget index entries of normalized quotations no seed has any more."""
        for table in ("quote_grams", "quote_sightings"):
            mark(self.con, "quotes", f"SELECT DISTINCT quote_key FROM {table} "
                 "WHERE quote_key NOT IN (SELECT quote_key FROM quotes)")
            self.con.execute(
                f"DELETE FROM {table} WHERE quote_key NOT IN (SELECT quote_key FROM quotes)"
            )

    def unindexed_quotes(self) -> list[tuple[int, str]]:
        """(quote_key, norm_text) of normalized quotations not in quote_grams yet."""
        return [(int(k), str(t)) for k, t in self.con.execute(
            """
            SELECT quote_key, any_value(norm_text) FROM quotes
            WHERE quote_key NOT IN (SELECT quote_key FROM quote_grams)
            GROUP BY quote_key ORDER BY quote_key
            """).fetchall()]

    def add_quote_grams(self, keys: Sequence[int], grams: Sequence[npt.NDArray[np.uint64]],
                        totals: Sequence[int]) -> None:
        """Store the distinct 3-gram hashes of each quotation (the quote side of the index)."""
        sizes = [len(g) for g in grams]
        table = pa.table({
            "quote_key": pa.array(np.repeat(np.asarray(keys, dtype=np.int64), sizes)),
            "gram": pa.array(_signed(grams)),
            "grams": pa.array(np.repeat(np.asarray(sizes, dtype=np.int32), sizes)),
            "total": pa.array(np.repeat(np.asarray(totals, dtype=np.int32), sizes)),
        })
        with registered(self.con, "new_quote_grams", table):
            mark_values(self.con, "quotes", list(keys))
            self.con.execute("INSERT INTO quote_grams SELECT * FROM new_quote_grams")

    def latest_min_words(self) -> int | None:
        """--min-quote-words of the latest seed search, if any."""
        rows = self.con.execute(
            "SELECT min_words FROM quote_scans ORDER BY scanned_at DESC, seed_doc_id LIMIT 1"
        ).fetchall()
        return int(rows[0][0]) if rows else None

    # the corpus index -------------------------------------------------------------------

    def pages_to_index(self, limit: int) -> list[tuple[int, str, str]]:
        """(doc_id, content_sha256, text) of up to `limit` pages new or changed since indexed."""
        due = self.con.execute(
            """
            SELECT d.doc_id, d.content_sha256 FROM documents d
            LEFT JOIN quote_index_docs x ON x.doc_id = d.doc_id
            WHERE d.kind = 'page' AND x.content_sha256 IS DISTINCT FROM d.content_sha256
            ORDER BY d.doc_id LIMIT ?
            """, [limit]).fetchall()
        texts = self.texts([int(d) for d, _ in due])
        return [(int(d), str(s), texts.get(int(d), "")) for d, s in due]

    def texts(self, doc_ids: Sequence[int]) -> dict[int, str]:
        """The texts of these documents.

        The ids go into the SQL as a constant list: DuckDB then filters the scan on doc_id
        and reads the text column only where an id matched, so the cost follows the
        documents asked for, not the corpus (a join would read every text).
        """
        out: dict[int, str] = {}
        ids = sorted(set(doc_ids))
        for start in range(0, len(ids), _IN_LIST):
            chunk = ", ".join(str(int(i)) for i in ids[start : start + _IN_LIST])
            for doc_id, text in self.con.execute(
                f"SELECT doc_id, text FROM documents WHERE doc_id IN ({chunk})"
            ).fetchall():
                out[int(doc_id)] = str(text or "")
        return out

    def replace_index(self, docs: Sequence[tuple[int, str]],
                      grams: Sequence[npt.NDArray[np.uint64]]) -> None:
        """Replace the postings and sightings of these pages by their new 3-grams."""
        sizes = [len(g) for g in grams]
        ids = pa.table({"doc_id": pa.array([d for d, _ in docs], pa.int64()),
                        "content_sha256": pa.array([s for _, s in docs], pa.string()),
                        "grams": pa.array(sizes, pa.int32())})
        postings = pa.table({
            "gram": pa.array(_signed(grams)),
            "doc_id": pa.array(np.repeat(np.asarray([d for d, _ in docs], np.int64), sizes)),
        })
        with registered(self.con, "indexed_docs", ids), \
                registered(self.con, "new_postings", postings):
            mark(self.con, "docs", "SELECT doc_id FROM indexed_docs")
            (indexed,) = self.con.execute(
                "SELECT count(*) FROM quote_index_docs "
                "WHERE doc_id IN (SELECT doc_id FROM indexed_docs)"
            ).fetchall()[0]
            # New pages have no postings: deleting them would scan the whole index.
            tables = ("quote_index", "quote_index_docs", "quote_sightings") if indexed else ()
            for table in tables:
                self.con.execute(
                    f"DELETE FROM {table} WHERE doc_id IN (SELECT doc_id FROM indexed_docs)"
                )
            self.con.execute("INSERT INTO quote_index SELECT * FROM new_postings")
            self.con.execute("INSERT INTO quote_index_docs SELECT * FROM indexed_docs")

    def candidates(self, doc_ids: Sequence[int] = (), quote_keys: Sequence[int] = (),
                   *, near: float) -> list[Candidate]:
        """Pairs of these pages (or these quotations) and quotations (pages) sharing enough
        distinct 3-grams (dedup.quotes.candidate_minimum), with the page's text."""
        by_docs = bool(doc_ids)
        wanted = pa.table({"id": pa.array(list(doc_ids if by_docs else quote_keys), pa.int64())})
        side = "i.doc_id" if by_docs else "g.quote_key"
        with registered(self.con, "wanted_ids", wanted):
            rows = self.con.execute(
                f"""
                WITH shared AS (
                    SELECT g.quote_key, i.doc_id, count(*) AS shared,
                           any_value(g.grams) AS grams, any_value(g.total) AS total
                    FROM quote_grams g JOIN quote_index i ON i.gram = g.gram
                    WHERE {side} IN (SELECT id FROM wanted_ids)
                    GROUP BY g.quote_key, i.doc_id
                )
                SELECT s.quote_key, (SELECT any_value(norm_text) FROM quotes q
                                     WHERE q.quote_key = s.quote_key),
                       s.doc_id, x.content_sha256
                FROM shared s JOIN quote_index_docs x ON x.doc_id = s.doc_id
                WHERE s.shared >= greatest(1, s.grams - (s.total - ceil(? * s.total - 1e-9)))
                ORDER BY s.quote_key, s.doc_id
                """, [near]).fetchall()
        texts = self.texts([int(r[2]) for r in rows])
        return [
            Candidate(int(k), str(n), int(d), str(s), texts.get(int(d), "")) for k, n, d, s in rows
        ]

    def save_sightings(self, rows: Sequence[SightingRow]) -> None:
        """Store pages found to hold quotations (a pair seen again is replaced)."""
        if not rows:
            return
        with registered(self.con, "new_sightings", arrow_table(SightingRow, rows)):
            mark(self.con, "quotes", "SELECT quote_key FROM new_sightings")
            self.con.execute("INSERT OR REPLACE INTO quote_sightings SELECT * FROM new_sightings")

    def index_size(self) -> tuple[int, int]:
        """(postings, pages) in the corpus index."""
        (postings,) = self.con.execute("SELECT count(*) FROM quote_index").fetchall()[0]
        (pages,) = self.con.execute("SELECT count(*) FROM quote_index_docs").fetchall()[0]
        return int(postings), int(pages)

    # checks against cited pages ---------------------------------------------------------

    def due_checks(self) -> list[DueCheck]:
        """Citations of seeds with quotations whose checks are missing or of another text."""
        rows = self.con.execute(
            """
            WITH target AS (
                SELECT c.doc_id AS seed_doc_id, c.url,
                       coalesce(v.version, CASE WHEN d.doc_id IS NOT NULL
                                                THEN u.current_version END) AS version,
                       coalesce(v.content_sha256, d.content_sha256) AS sha
                FROM citations c
                LEFT JOIN urls u ON u.url = c.url
                LEFT JOIN versions v ON v.url = c.url AND v.version = c.cited_version
                LEFT JOIN documents d ON d.doc_id = u.doc_id AND d.kind = 'page'
                WHERE c.doc_id IN (SELECT seed_doc_id FROM quotes)
            ),
            done AS (
                SELECT seed_doc_id, url, any_value(version) AS version,
                       any_value(content_sha256) AS sha, count(*) AS n
                FROM quote_results GROUP BY seed_doc_id, url
            ),
            wanted AS (SELECT seed_doc_id, count(*) AS n FROM quotes GROUP BY seed_doc_id)
            SELECT t.seed_doc_id, t.url, t.version, t.sha,
                   coalesce((SELECT any_value(x.text) FROM version_texts x
                             WHERE x.content_sha256 = t.sha),
                            (SELECT any_value(x.text) FROM documents x
                             WHERE x.content_sha256 = t.sha))
            FROM target t
            JOIN wanted w ON w.seed_doc_id = t.seed_doc_id
            LEFT JOIN done k ON k.seed_doc_id = t.seed_doc_id AND k.url = t.url
            WHERE k.n IS DISTINCT FROM w.n OR k.sha IS DISTINCT FROM t.sha
               OR k.version IS DISTINCT FROM t.version
            ORDER BY t.seed_doc_id, t.url
            """).fetchall()
        return [DueCheck(int(s), str(u), v, h, t) for s, u, v, h, t in rows]

    def seed_quotes(self, seed_doc_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
        """(ordinal, text) of each seed's quotations, in order."""
        ids = pa.table({"id": pa.array(sorted(set(seed_doc_ids)), pa.int64())})
        out: dict[int, list[tuple[int, str]]] = {}
        with registered(self.con, "quoting_seeds", ids):
            for seed, ordinal, text in self.con.execute(
                "SELECT seed_doc_id, ordinal, text FROM quotes "
                "WHERE seed_doc_id IN (SELECT id FROM quoting_seeds) ORDER BY ALL"
            ).fetchall():
                out.setdefault(int(seed), []).append((int(ordinal), str(text)))
        return out

    def save_results(self, checks: Sequence[DueCheck], rows: Sequence[QuoteResultRow]) -> None:
        """Replace the results of these citations."""
        keys = pa.table({"seed_doc_id": pa.array([c.seed_doc_id for c in checks], pa.int64()),
                         "url": pa.array([c.url for c in checks], pa.string())})
        with registered(self.con, "checked_citations", keys):
            mark(self.con, "docs", "SELECT seed_doc_id FROM checked_citations")
            self.con.execute(
                "DELETE FROM quote_results r USING checked_citations k "
                "WHERE r.seed_doc_id = k.seed_doc_id AND r.url = k.url"
            )
        if rows:
            with registered(self.con, "new_results", arrow_table(QuoteResultRow, rows)):
                self.con.execute("INSERT INTO quote_results SELECT * FROM new_results")


def _signed(grams: Sequence[npt.NDArray[np.uint64]]) -> npt.NDArray[np.int64]:
    """The uint64 hashes, concatenated, as int64 (DuckDB BIGINT) bit for bit."""
    if not grams:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(grams).astype(np.uint64).view(np.int64)
