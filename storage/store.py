"""Writes of the pipeline's records into the working database, one transaction per batch."""

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa

from extractors.records import Citation, Passage
from fetching.records import FetchRequest, FetchResult, Validators
from storage import bulk, columns
from storage.changes import mark, mark_values
from storage.dedup_store import DedupStore
from storage.outcomes import RunStatus, Stage
from storage.records import DocumentRow, SeedRow, StepFailure
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
        """Mark runs left 'running' by a killed process as interrupted; return where to resume.

        Only one process can hold the working database, so any other 'running' run is dead.
        The start returned is the earliest of those and of the runs that timed out since
        the last completed run: URLs fetched since then need not be fetched again.
        """
        # A timed-out run since the last completed one left its batches to resume after, too.
        row = self.con.execute(
            """
            SELECT min(started_at) FROM runs
            WHERE run_id <> ? AND (status = 'running' OR (status = 'timed_out' AND started_at >
                  coalesce((SELECT max(started_at) FROM runs
                            WHERE status IN ('completed', 'completed_with_errors')),
                           '-infinity'::TIMESTAMPTZ)))
            """,
            [run_id],
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
        status: RunStatus,
        counts: Mapping[tuple[Stage, str], int],
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

    def save_failures(self, run_id: str, failures: Sequence[StepFailure], now: datetime) -> None:
        """Record the items a dedup step set aside in this run, in their own transaction."""
        if not failures:
            return
        with self.transaction():
            names = columns.column_names(StepFailure)
            self.con.executemany(
                f"INSERT INTO step_failures (run_id, {', '.join(names)}, failed_at) "
                f"VALUES (?, {', '.join('?' for _ in names)}, ?)",
                [[run_id, *columns.values(f), now] for f in failures],
            )

    # seeds and documents ----------------------------------------------------------------

    def save_seed(self, seed: SeedRow, now: datetime) -> None:
        """Insert or update a seed file's row."""
        names = columns.column_names(SeedRow)
        updates = ", ".join(f"{c} = excluded.{c}" for c in names if c != "path")
        self.con.execute(
            f"INSERT INTO seeds ({', '.join(names)}, first_seen, last_seen) "
            f"VALUES ({', '.join('?' for _ in names)}, ?, ?) "
            f"ON CONFLICT (path) DO UPDATE SET {updates}, last_seen = excluded.last_seen",
            [*columns.values(seed), now, now],
        )

    def save_document(
        self, doc: DocumentRow, passages: Sequence[Passage], keys: Sequence[tuple[int, bool]]
    ) -> bool:
        """Insert or update a document and its passages; True when its text changed.

        `keys` holds each passage's (normalized hash, counts for repeats).
        """
        return self.save_documents([doc], [passages], [keys])[0]

    def save_documents(
        self,
        docs: Sequence[DocumentRow],
        passages: Sequence[Sequence[Passage]],
        keys: Sequence[Sequence[tuple[int, bool]]],
    ) -> list[bool]:
        """Insert or update documents and their passages; for each, whether its text changed.

        The same as saving them one by one, in order: a document given twice is changed
        the second time only if its text differs from the first.
        """
        if not docs:
            return []
        ids = list(dict.fromkeys(d.doc_id for d in docs))
        mark_values(self.con, "docs", list(ids))
        with bulk.registered(self.con, "doc_ids", pa.table({"id": pa.array(ids, pa.int64())})):
            known: dict[int, str | None] = dict(self.con.execute(
                "SELECT d.doc_id, d.content_sha256 FROM documents d JOIN doc_ids i ON i.id = d.doc_id"
            ).fetchall())
        stored = set(known)
        changed = []
        last: dict[int, int] = {}  # doc_id -> index of its last occurrence
        rewritten: set[int] = set()  # doc_ids whose passages are replaced
        for index, doc in enumerate(docs):
            sha = doc.content_sha256
            changed.append(doc.doc_id not in known or known[doc.doc_id] != sha)
            if changed[-1]:
                rewritten.add(doc.doc_id)
            known[doc.doc_id] = sha
            last[doc.doc_id] = index
        # Equal text splits into equal passages, so the last version's are the ones to keep.
        final = sorted(last.values())
        self._upsert_documents(bulk.documents_table([docs[i] for i in final]))
        kept = [i for i in final if docs[i].doc_id in rewritten]
        # Documents stored before with another text: what was derived from the old text goes
        # in this transaction (issue 13), so no index ever points at text that is gone.
        edited = [docs[i].doc_id for i in kept if docs[i].doc_id in stored]
        dedup_index = DedupStore(self.con)
        old_hashes = dedup_index.passage_hashes_of(edited)
        dedup_index.forget_documents(edited)
        if kept:
            self.con.execute(
                "DELETE FROM passages WHERE doc_id IN (SELECT unnest(?))",
                [[docs[i].doc_id for i in kept]],
            )
            table = bulk.passages_table(
                [docs[i].doc_id for i in kept], [passages[i] for i in kept], [keys[i] for i in kept]
            )
            with bulk.registered(self.con, "new_passages", table) as t:
                names = ", ".join(table.column_names)
                self.con.execute(f"INSERT INTO passages ({names}) SELECT {names} FROM {t}")
        dedup_index.forget_vanished_passages(old_hashes)
        return changed

    def _upsert_documents(self, table: pa.Table) -> None:
        names = table.column_names
        # A document keeps its kind and the time it was first stored; the rest is replaced.
        updates = ", ".join(
            f"{c} = excluded.{c}" for c in names if c not in ("doc_id", "kind", "first_seen")
        )
        with bulk.registered(self.con, "new_documents", table):
            self.con.execute(
                f"INSERT INTO documents ({', '.join(names)}) SELECT {', '.join(names)} "
                f"FROM new_documents ON CONFLICT (doc_id) DO UPDATE SET {updates}"
            )

    def save_citations(self, doc_id: int, citations: Iterable[Citation], now: datetime) -> None:
        """Record the seed's citation edges and add their URLs to the frontier."""
        # One row per URL, the last citation winning, as saving them one by one would.
        by_url = {c.url: c for c in citations}
        if not by_url:
            return
        rows = [(c.url, c.raw, str(c.kind), urlsplit(c.url).hostname or "") for c in by_url.values()]
        with bulk.registered(self.con, "new_citations", bulk.citations_table(doc_id, rows, now)):
            mark_values(self.con, "docs", [doc_id])
            # Only new URLs: a known one's row is left as it is.
            mark(self.con, "urls", "SELECT url FROM new_citations "
                 "WHERE url NOT IN (SELECT url FROM urls)")
            self.con.execute(
                """
                INSERT INTO citations (doc_id, url, raw_url, kind, first_seen, last_seen)
                SELECT doc_id, url, raw_url, kind, now, now FROM new_citations
                ON CONFLICT (doc_id, url) DO UPDATE SET last_seen = excluded.last_seen
                """
            )
            self.con.execute(
                """
                INSERT INTO urls (url, host, first_seen, fetch_count)
                SELECT url, host, now, 0 FROM new_citations
                ON CONFLICT (url) DO NOTHING
                """
            )

    # frontier and fetches ---------------------------------------------------------------

    def fetch_requests(self, urls: Sequence[str]) -> list[FetchRequest]:
        """FetchRequests for `urls`, with the validators stored for each."""
        if not urls:
            return []
        cursor = self.con.execute(
            f"SELECT url, {columns.select_list(Validators)} FROM urls "
            "WHERE url IN (SELECT unnest(?))",
            [list(urls)],
        )
        found = {row["url"]: columns.from_row(Validators, row) for row in columns.named_rows(cursor)}
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
            (count,) = self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
            out[table] = int(count)
        return out

    def save_fetches(
        self, run_id: str, results: Sequence[FetchResult], gone_after_runs: int = 2
    ) -> None:
        """Record every attempt of each result and its URL's latest state and health.

        Bodies are not archived here: only a new version's are (storage.versions).
        """
        if not results:
            return
        con = self.con
        attempts = bulk.attempts_table(run_id, results)
        with bulk.registered(con, "new_attempts", attempts) as t:
            names = ", ".join(attempts.column_names)
            con.execute(f"INSERT INTO fetches ({names}) SELECT {names} FROM {t}")
        with bulk.registered(con, "new_states", bulk.url_states_table(results)):
            mark(con, "urls", "SELECT url FROM new_states")
            con.execute(
                """
                UPDATE urls SET last_fetched_at = n.started, last_outcome = n.outcome,
                  last_status_code = n.status_code, last_error = n.error,
                  final_url = coalesce(n.final_url, urls.final_url),
                  etag = CASE WHEN n.keep_validators THEN coalesce(n.etag, urls.etag)
                              ELSE urls.etag END,
                  last_modified = CASE WHEN n.keep_validators
                                       THEN coalesce(n.last_modified, urls.last_modified)
                                       ELSE urls.last_modified END,
                  body_sha256 = CASE WHEN n.keep_validators
                                     THEN coalesce(n.body_sha256, urls.body_sha256)
                                     ELSE urls.body_sha256 END,
                  fetch_count = urls.fetch_count + 1,
                  last_ok_at = CASE WHEN n.keep_validators THEN n.started
                                    ELSE urls.last_ok_at END,
                  consecutive_failures = CASE WHEN n.keep_validators THEN 0
                                              ELSE coalesce(urls.consecutive_failures, 0) + 1
                                         END,
                  consecutive_gone = CASE WHEN n.keep_validators THEN 0
                                          WHEN n.gone THEN coalesce(urls.consecutive_gone, 0) + 1
                                          ELSE coalesce(urls.consecutive_gone, 0) END,
                  failing_since = CASE WHEN n.keep_validators THEN NULL
                                       WHEN n.gone THEN coalesce(urls.failing_since, n.started)
                                       ELSE urls.failing_since END,
                  is_gone = CASE WHEN n.keep_validators THEN false
                                 WHEN n.gone THEN coalesce(urls.consecutive_gone, 0) + 1 >= ?
                                 ELSE coalesce(urls.is_gone, false) END
                FROM new_states n WHERE urls.url = n.url
                """,
                [gone_after_runs],
            )

    def link_url(self, url: str, doc_id: int | None, canonical_url: str | None) -> None:
        """Point a frontier URL at the document it leads to."""
        self.link_urls([(url, doc_id, canonical_url)])

    def link_urls(self, links: Sequence[tuple[str, int | None, str | None]]) -> None:
        """Point frontier URLs at the documents they lead to: (url, doc_id, canonical_url)."""
        if not links:
            return
        with bulk.registered(self.con, "new_links", bulk.links_table(links)):
            mark(self.con, "urls", "SELECT url FROM new_links")
            self.con.execute(
                "UPDATE urls SET doc_id = n.doc_id, canonical_url = n.canonical_url "
                "FROM new_links n WHERE urls.url = n.url"
            )

