"""Writes of the pipeline's records into the working database, one transaction per batch."""

import contextlib
import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

import duckdb

from extractors.records import Citation, Passage
from fetching.records import FetchRequest, FetchResult, Outcome, Validators
from storage.records import DocumentRow, SeedRow
from storage.tx import transaction


class Store:
    """The pipeline's writes and frontier reads over one read-write connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Commit everything written inside, or nothing."""
        return transaction(self.con)

    # runs -----------------------------------------------------------------------------

    def start_run(self, run_id: str, parameters: Mapping[str, object], now: datetime) -> None:
        """Record a run as started."""
        self.con.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, NULL, 'running', ?, NULL)",
            [run_id, now, json.dumps(parameters, default=str, sort_keys=True)],
        )

    def interrupt_stale_runs(self, run_id: str, now: datetime) -> datetime | None:
        """Mark runs left 'running' by a killed process as interrupted; return the earliest start.

        Only one process can hold the working database, so any other 'running' run is dead.
        """
        row = self.con.execute(
            "SELECT min(started_at) FROM runs WHERE status = 'running' AND run_id <> ?", [run_id]
        ).fetchone()
        self.con.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = ? "
            "WHERE status = 'running' AND run_id <> ?",
            [now, run_id],
        )
        return row[0] if row else None

    def finish_run(
        self,
        run_id: str,
        status: str,
        counts: Mapping[tuple[str, str], int],
        now: datetime,
        error: str | None = None,
    ) -> None:
        """Record a run's end, status and counts by stage and reason."""
        with self.transaction():
            self.con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, error = ? WHERE run_id = ?",
                [now, status, error, run_id],
            )
            self.con.execute("DELETE FROM run_counts WHERE run_id = ?", [run_id])
            rows = [[run_id, stage, reason, n] for (stage, reason), n in sorted(counts.items())]
            if rows:
                self.con.executemany("INSERT INTO run_counts VALUES (?, ?, ?, ?)", rows)

    # seeds and documents ----------------------------------------------------------------

    def save_seed(self, seed: SeedRow, now: datetime) -> None:
        """Insert or update a seed file's row."""
        self.con.execute(
            """
            INSERT INTO seeds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (path) DO UPDATE SET
              doc_id = excluded.doc_id, sha256 = excluded.sha256, bytes = excluded.bytes,
              encoding = excluded.encoding, status = excluded.status,
              reason = excluded.reason, citations = excluded.citations,
              rejected_links = excluded.rejected_links, last_seen = excluded.last_seen
            """,
            [
                seed.path, seed.doc_id, seed.sha256, seed.size, seed.encoding, seed.status,
                seed.reason, seed.citations, seed.rejected_links, now, now,
            ],
        )

    def save_document(
        self, doc: DocumentRow, passages: Sequence[Passage], keys: Sequence[tuple[int, bool]]
    ) -> bool:
        """Insert or update a document and its passages; True when its text changed.

        `keys` holds each passage's (normalized hash, counts for repeats).
        """
        row = self.con.execute(
            "SELECT content_sha256 FROM documents WHERE doc_id = ?", [doc.doc_id]
        ).fetchone()
        changed = row is None or row[0] != doc.content_sha256
        self.con.execute(
            """
            INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (doc_id) DO UPDATE SET
              url = excluded.url, canonical_url = excluded.canonical_url,
              title = excluded.title, author = excluded.author,
              published = excluded.published, sitename = excluded.sitename,
              hostname = excluded.hostname, language = excluded.language,
              description = excluded.description, text = excluded.text,
              text_chars = excluded.text_chars, content_sha256 = excluded.content_sha256,
              extractor = excluded.extractor, extractor_version = excluded.extractor_version,
              extracted_at = excluded.extracted_at
            """,
            [
                doc.doc_id, doc.kind, doc.url, doc.canonical_url, doc.title, doc.author,
                doc.published, doc.sitename, doc.hostname, doc.language, doc.description,
                doc.text, len(doc.text), doc.content_sha256, doc.extractor,
                doc.extractor_version, doc.extracted_at, doc.extracted_at,
            ],
        )
        if changed:
            self.con.execute("DELETE FROM passages WHERE doc_id = ?", [doc.doc_id])
            rows = [
                [doc.doc_id, p.ordinal, p.text, h, countable]
                for p, (h, countable) in zip(passages, keys, strict=True)
            ]
            if rows:
                self.con.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?)", rows)
        return changed

    def save_citations(self, doc_id: int, citations: Iterable[Citation], now: datetime) -> None:
        """Record the seed's citation edges and add their URLs to the frontier."""
        citations = list(citations)
        if not citations:
            return
        rows = [[doc_id, c.url, c.raw, str(c.kind), now, now] for c in citations]
        self.con.executemany(
            """
            INSERT INTO citations VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (doc_id, url) DO UPDATE SET last_seen = excluded.last_seen
            """,
            rows,
        )
        self.con.executemany(
            """
            INSERT INTO urls (url, host, first_seen, fetch_count) VALUES (?, ?, ?, 0)
            ON CONFLICT (url) DO NOTHING
            """,
            [[c.url, urlsplit(c.url).hostname or "", now] for c in citations],
        )

    # frontier and fetches ---------------------------------------------------------------

    def fetch_requests(self, urls: Sequence[str]) -> list[FetchRequest]:
        """FetchRequests for `urls`, with the validators stored for each."""
        if not urls:
            return []
        found = dict(
            (row[0], Validators(row[1], row[2]))
            for row in self.con.execute(
                "SELECT url, etag, last_modified FROM urls WHERE url IN (SELECT unnest(?))",
                [list(urls)],
            ).fetchall()
        )
        return [FetchRequest(u, found.get(u, Validators())) for u in urls]

    def fresh_urls(
        self, urls: Sequence[str], fetched_since: datetime, any_outcome: bool = False
    ) -> set[str]:
        """The URLs among `urls` fetched at or after `fetched_since` (successfully, by default)."""
        if not urls:
            return set()
        rows = self.con.execute(
            """
            SELECT url FROM urls WHERE url IN (SELECT unnest(?))
              AND last_fetched_at >= ? AND (? OR last_outcome IN ('ok', 'not_modified'))
            """,
            [list(urls), fetched_since, any_outcome],
        ).fetchall()
        return {row[0] for row in rows}

    def totals(self) -> dict[str, int]:
        """Row counts of the main tables, for the run summary."""
        out: dict[str, int] = {}
        for table in ("seeds", "documents", "passages", "urls", "fetches"):
            row = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
            out[table] = int(row[0]) if row else 0
        return out

    def save_fetch(self, run_id: str, result: FetchResult) -> None:
        """Record every attempt, the URL's latest state and, when ok, the raw response."""
        last = len(result.attempts)
        rows = [
            [
                run_id, result.url, a.attempt, a.started_at, a.status_code, a.final_url,
                list(a.redirect_chain), str(a.outcome), a.error, a.bytes, a.elapsed_ms,
                i == last,
            ]
            for i, a in enumerate(result.attempts, start=1)
        ]
        if rows:
            self.con.executemany(
                "INSERT INTO fetches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        started = result.attempts[0].started_at if result.attempts else None
        keep_validators = result.outcome in (Outcome.OK, Outcome.NOT_MODIFIED)
        self.con.execute(
            """
            UPDATE urls SET last_fetched_at = ?, last_outcome = ?, last_status_code = ?,
              last_error = ?, final_url = coalesce(?, final_url),
              etag = CASE WHEN ? THEN coalesce(?, etag) ELSE etag END,
              last_modified = CASE WHEN ? THEN coalesce(?, last_modified) ELSE last_modified END,
              fetch_count = fetch_count + 1
            WHERE url = ?
            """,
            [
                started, str(result.outcome), result.status_code, result.error,
                result.final_url, keep_validators, result.validators.etag, keep_validators,
                result.validators.last_modified, result.url,
            ],
        )
        if result.outcome is Outcome.OK and result.body is not None:
            self._save_response(result, result.attempts[-1].started_at if result.attempts else None)

    def _save_response(self, result: FetchResult, fetched_at: datetime | None) -> None:
        body = result.body or b""
        self.con.execute(
            "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.url, result.final_url, fetched_at, result.status_code,
                [{"name": k, "value": v} for k, v in result.headers], result.content_type,
                result.charset, hashlib.sha256(body).hexdigest(), len(body),
                zlib.compress(body, 6),
            ],
        )

    def link_url(self, url: str, doc_id: int | None, canonical_url: str | None) -> None:
        """Point a frontier URL at the document it leads to."""
        self.con.execute(
            "UPDATE urls SET doc_id = ?, canonical_url = ? WHERE url = ?",
            [doc_id, canonical_url, url],
        )
