"""Prefect artifacts of an ingest run, under stable keys, shown on the run page's Artifacts tab.

    recite-fetch-progress  progress of the fetch stage, updated after every batch
    recite-run-counts      table: counts by stage and outcome reason
    recite-run-report      markdown: new and changed documents, the most repeated
                           passages, duplicate clusters that gained a new or changed document

Each run creates its own version of each key, so the Artifacts page also shows their
history across runs. An artifact that cannot be written is logged and skipped: it never
fails a run. The report reads the run's working database through the flow's connection,
before the database is published.
"""

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

import duckdb
from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)
from prefect.exceptions import MissingContextError
from prefect.logging import get_logger, get_run_logger

COUNTS_KEY = "recite-run-counts"
REPORT_KEY = "recite-run-report"
PROGRESS_KEY = "recite-fetch-progress"

SHOW_DOCUMENTS = 25
SHOW_PASSAGES = 10
SHOW_CLUSTERS = 10
_BEFORE = "recite_report_before"  # temp table: each document's content hash before the run


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("recite.artifacts")


class FetchProgress:
    """The `recite-fetch-progress` artifact: percent of the run's URLs fetched so far."""

    def __init__(self, total: int, artifact_id: UUID | None) -> None:
        self.total = total
        self.done = 0
        self._id = artifact_id
        self._sent = 0
        self._lock = asyncio.Lock()

    @classmethod
    async def create(cls, total: int) -> "FetchProgress":
        """Create the artifact at 0% (100% when there is nothing to fetch)."""
        try:
            artifact_id = await acreate_progress_artifact(
                0.0 if total else 100.0, key=PROGRESS_KEY,
                description=f"0 of {total} URLs fetched.",
            )
        except Exception as exc:  # an artifact never fails a run
            _logger().warning("could not create the %s artifact: %r", PROGRESS_KEY, exc)
            artifact_id = None
        return cls(total, artifact_id)

    async def advance(self, n: int) -> None:
        """Count `n` more URLs fetched and update the artifact."""
        self.done += n
        if self._id is None or not self.total:
            return
        # Batches finish concurrently: one update at a time, each sending the count as it
        # is then, so an earlier, slower update never lands after a later one (the final
        # figure would stay below 100%).
        async with self._lock:
            done = self.done
            if done <= self._sent:
                return  # a later call's count went out already
            try:
                await aupdate_progress_artifact(
                    self._id, min(100.0, 100.0 * done / self.total),
                    description=f"{done} of {self.total} URLs fetched.",
                )
                self._sent = done
            except Exception as exc:
                _logger().warning("could not update the %s artifact: %r", PROGRESS_KEY, exc)


class RunReport:
    """Collects what a run changed and publishes the counts table and the markdown report.

    `begin` snapshots each document's content hash (a temporary table, 16 bytes per
    document) so that `publish` can tell new and changed documents apart.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: str, db: str) -> None:
        self.con = con
        self.run_id = run_id
        self.db = db

    @classmethod
    def begin(cls, con: duckdb.DuckDBPyConnection, run_id: str, db: str) -> "RunReport":
        """Snapshot the documents' content hashes before the run writes anything."""
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_BEFORE} AS "
            "SELECT doc_id, hash(content_sha256) AS content_hash FROM documents"
        )
        return cls(con, run_id, db)

    async def publish(
        self, counts: Sequence[tuple[str, str, int]], totals: Mapping[str, int]
    ) -> None:
        """Create the `recite-run-counts` and `recite-run-report` artifacts of this run."""
        try:
            await acreate_table_artifact(
                counts_table(counts), key=COUNTS_KEY,
                description="Items by stage and outcome reason, this run.",
            )
        except Exception as exc:
            _logger().warning("could not create the %s artifact: %r", COUNTS_KEY, exc)
        try:
            markdown = self.markdown(counts, totals)
            await acreate_markdown_artifact(
                markdown, key=REPORT_KEY,
                description="New and changed documents, repeated passages, duplicate clusters.",
            )
        except Exception as exc:
            _logger().warning("could not create the %s artifact: %r", REPORT_KEY, exc)

    # the report ---------------------------------------------------------------------------

    def markdown(self, counts: Sequence[tuple[str, str, int]], totals: Mapping[str, int]) -> str:
        """The run report as markdown."""
        parts = [
            f"# recite run report\n\nRun `{self.run_id}`, database `{_code(self.db)}`.",
            _summary(counts, totals),
            self._documents(),
            self._passages(),
            self._clusters(),
        ]
        return "\n\n".join(parts) + "\n"

    def _documents(self) -> str:
        changes = self._changed_documents_sql()
        new, changed = self._one(
            f"SELECT count(*) FILTER (WHERE change = 'new'), count(*) FILTER (WHERE change = 'changed') "
            f"FROM ({changes})"
        )
        head = f"## New and changed documents\n\n{new} new, {changed} changed (text differs)."
        rows = self.con.execute(
            f"SELECT change, kind, title, url FROM ({changes}) "
            f"ORDER BY change DESC, kind, url LIMIT {SHOW_DOCUMENTS}"
        ).fetchall()
        if not rows:
            return head
        items = "\n".join(
            f"- **{c}** {k}: " + (f"{_text(t, 100)} — " if t else "") + f"`{_code(u)}`"
            for c, k, t, u in rows
        )
        more = new + changed - len(rows)
        return f"{head}\n\n{items}" + (f"\n\n… and {more} more." if more > 0 else "")

    def _changed_documents_sql(self) -> str:
        return f"""
            SELECT d.doc_id, d.kind, d.title, d.url,
                   CASE WHEN b.doc_id IS NULL THEN 'new' ELSE 'changed' END AS change
            FROM documents d LEFT JOIN {_BEFORE} b ON b.doc_id = d.doc_id
            WHERE b.doc_id IS NULL OR b.content_hash <> hash(d.content_sha256)
        """

    def _passages(self) -> str:
        if self._has_relation("repeated_passages"):
            source, flag = "repeated_passages", "is_boilerplate"
        else:  # a database from before dedup: the same counts from the passages table
            source = """(SELECT min(text) AS text, count(*) AS occurrences,
                                count(DISTINCT doc_id) AS documents
                         FROM passages GROUP BY norm_hash HAVING count(*) > 1)"""
            flag = "false"
        rows = self.con.execute(
            f"SELECT occurrences, documents, text, {flag} FROM {source} "
            f"ORDER BY occurrences DESC, documents DESC, text LIMIT {SHOW_PASSAGES}"
        ).fetchall()
        head = "## Most repeated passages\n\nWhole corpus, by occurrences."
        if not rows:
            return f"{head}\n\nNo passage occurs more than once."
        return head + "\n\n" + "\n".join(
            f"- **{o}×** in {d} document{'s' if d != 1 else ''}"
            + (" (site boilerplate)" if b else "") + f": {_text(t, 240)}"
            for o, d, t, b in rows
        )

    def _clusters(self) -> str:
        head = (
            "## New duplicate clusters\n\nClusters of near-duplicate documents that gained a "
            "new or changed document in this run."
        )
        if not self._has_relation("duplicate_clusters"):
            return f"{head}\n\nNot available: this database has no `duplicate_clusters` view yet."
        rows = self.con.execute(
            f"""
            WITH touched AS (
                SELECT DISTINCT c.cluster_id FROM duplicate_clusters c
                JOIN ({self._changed_documents_sql()}) ch ON ch.doc_id = c.doc_id
            )
            SELECT c.cluster_id, any_value(c.canonical_url) AS canonical_url, count(*) AS members
            FROM duplicate_clusters c JOIN touched t ON t.cluster_id = c.cluster_id
            GROUP BY c.cluster_id ORDER BY members DESC, canonical_url LIMIT {SHOW_CLUSTERS}
            """
        ).fetchall()
        if not rows:
            return f"{head}\n\nNone."
        return head + "\n\n" + "\n".join(
            f"- cluster `{c}`: {m} documents, canonical `{_code(u)}`" for c, u, m in rows
        )

    def _has_relation(self, name: str) -> bool:
        """True when the database has a table or view called `name` (dedup lands later)."""
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        return bool(row and row[0])

    def _one(self, sql: str) -> tuple[int, int]:
        row = self.con.execute(sql).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)


def counts_table(counts: Iterable[tuple[str, str, int]]) -> list[dict[str, object]]:
    """The counts as table rows: stage, reason, count."""
    return [{"stage": s, "reason": r, "count": n} for s, r, n in counts]


def _summary(counts: Sequence[tuple[str, str, int]], totals: Mapping[str, int]) -> str:
    by_stage: dict[str, list[str]] = {}
    for stage, reason, n in counts:
        by_stage.setdefault(stage, []).append(f"{reason} {n}")
    lines = [f"- **{_text(s, 40)}**: {_text(', '.join(rs), 400)}" for s, rs in by_stage.items()]
    total = ", ".join(f"{name} {n}" for name, n in sorted(totals.items()))
    return (
        "## Counts\n\n"
        + ("\n".join(lines) if lines else "Nothing counted.")
        + f"\n\nDatabase after the run: {total}. The full table is the `{COUNTS_KEY}` artifact."
    )


_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def _text(value: object, width: int) -> str:
    """A cell of untrusted text: one line, at most `width` characters, markdown escaped."""
    text = " ".join(str(value or "").split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.translate(_ESCAPE)


def _code(value: object) -> str:
    """Text shown inside backticks: no backticks, one line."""
    return " ".join(str(value or "").replace("`", "'").replace("|", "%7C").split())
