"""The run report: what a run changed, read from the working database before it is published.

`RunReport.begin` snapshots each document's content hash (a temporary table, 16 bytes per
document) before the run writes; `markdown` then lists new and changed documents, the
most repeated passages and the duplicate clusters that gained a new or changed document.
flows/artifacts.py shows it as the run page's `recite-run-report` artifact.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

SHOW_DOCUMENTS = 25
SHOW_CHANGES = 20
SHOW_PASSAGES = 10
SHOW_CLUSTERS = 10
SHOW_QUOTE_SEEDS = 20
SHOW_ABSENT_QUOTES = 5
_BEFORE = "recite_report_before"  # temp table: each document's content hash before the run
_GONE_BEFORE = "recite_report_gone_before"  # temp table: the URLs in link_rot before the run


@dataclass(frozen=True, slots=True)
class PageChange:
    """A cited page that changed in the run: its versions, titles and the diff."""

    url: str
    from_version: int
    to_version: int
    title_before: str | None
    title_after: str | None
    paragraphs_added: int
    paragraphs_removed: int
    diff: str


@dataclass(frozen=True, slots=True)
class GonePage:
    """A cited page that went gone in the run (it entered link_rot)."""

    url: str
    last_ok_at: datetime | None
    last_outcome: str | None
    last_status_code: int | None


@dataclass(frozen=True, slots=True)
class SeedQuotes:
    """A seed's quotations checked against its cited pages, by result, and the absent ones."""

    seed: str
    exact: int
    near: int
    absent: int
    unavailable: int
    # (quotation, cited URL) of the first absent checks.
    absent_quotes: tuple[tuple[str, str], ...]


class RunReport:
    """What a run changed, as the markdown report of its run page.

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
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_GONE_BEFORE} AS SELECT url FROM link_rot")
        return cls(con, run_id, db)

    def page_changes(self, limit: int = SHOW_CHANGES) -> list[PageChange]:
        """The cited pages the run saw change (page_changes), the first `limit` by URL."""
        rows = self.con.execute(
            "SELECT url, from_version, to_version, title_before, title_after, "
            "paragraphs_added, paragraphs_removed, diff FROM page_changes "
            "WHERE run_id = ? ORDER BY url LIMIT ?",
            [self.run_id, limit],
        ).fetchall()
        return [PageChange(*row) for row in rows]

    def gone_pages(self, limit: int = SHOW_CHANGES) -> list[GonePage]:
        """The cited pages that entered link_rot in this run, the first `limit` by URL."""
        rows = self.con.execute(
            f"SELECT url, last_ok_at, last_outcome, last_status_code FROM link_rot "
            f"WHERE url NOT IN (SELECT url FROM {_GONE_BEFORE}) ORDER BY url LIMIT ?",
            [limit],
        ).fetchall()
        return [GonePage(*row) for row in rows]

    def change_counts(self) -> tuple[int, int]:
        """(pages changed, pages gone) in this run, all of them."""
        (changed,) = self.con.execute(
            "SELECT count(*) FROM version_changes WHERE run_id = ?", [self.run_id]
        ).fetchall()[0]
        (gone,) = self.con.execute(
            f"SELECT count(*) FROM link_rot WHERE url NOT IN (SELECT url FROM {_GONE_BEFORE})"
        ).fetchall()[0]
        return int(changed), int(gone)

    def seed_quotes(self, limit: int = SHOW_QUOTE_SEEDS) -> list[SeedQuotes]:
        """Per seed with quotations (the first `limit` by path): its checks by result."""
        if not self._has_relation("quote_checks"):
            return []
        rows = self.con.execute(
            """
            SELECT seed, count(*) FILTER (WHERE result = 'exact'),
                   count(*) FILTER (WHERE result = 'near'),
                   count(*) FILTER (WHERE result = 'absent'),
                   count(*) FILTER (WHERE result = 'unavailable'),
                   list((quote, url) ORDER BY quote_ordinal, url)
                       FILTER (WHERE result = 'absent')
            FROM quote_checks GROUP BY seed ORDER BY seed LIMIT ?
            """, [limit]).fetchall()
        return [
            SeedQuotes(str(seed), e, n, a, u, tuple(
                (str(q["quote"] if isinstance(q, dict) else q[0]),
                 str(q["url"] if isinstance(q, dict) else q[1]))
                for q in (absent or [])[:SHOW_ABSENT_QUOTES]
            ))
            for seed, e, n, a, u, absent in rows
        ]

    # the report ---------------------------------------------------------------------------

    def markdown(
        self,
        counts: Sequence[tuple[str, str, int]],
        totals: Mapping[str, int],
        counts_key: str = "recite-run-counts",
        report_url: str | None = None,
    ) -> str:
        """The run report as markdown; `report_url`: where the HTML report is refreshed."""
        site = (
            f"\n\nThe HTML report is refreshed from the published database after the run: "
            f"[{_text(report_url, 300)}](<{_code(report_url)}>)."
            if report_url else ""
        )
        parts = [
            f"# recite run report\n\nRun `{self.run_id}`, database `{_code(self.db)}`.{site}",
            _summary(counts, totals, counts_key),
            *self._pages(),
            self._quotes(),
            self._documents(),
            self._passages(),
            self._clusters(),
        ]
        return "\n\n".join(parts) + "\n"

    def _pages(self) -> tuple[str, str]:
        """The sections of changed pages and of gone pages."""
        changed, gone = self.change_counts()
        return self._changes(changed), self._gone(gone)

    def _changes(self, changed: int) -> str:
        head = f"## Cited pages that changed\n\n{changed} changed in this run (see `page_changes`)."
        items = []
        for c in self.page_changes():
            title = (
                f"; title {_text(c.title_before, 80)} → {_text(c.title_after, 80)}"
                if c.title_before != c.title_after else ""
            )
            lines = short_diff(c.diff).replace("`", "'").splitlines()
            items.append(
                f"- `{_code(c.url)}` version {c.from_version} → {c.to_version}: "
                f"+{c.paragraphs_added} −{c.paragraphs_removed} paragraphs{title}\n\n"
                + "  ```diff\n" + "".join(f"  {line}\n" for line in lines) + "  ```"
            )
        more = changed - len(items)
        return "\n\n".join([head, *items]) + (f"\n\n… and {more} more." if more > 0 else "")

    def _gone(self, gone: int) -> str:
        head = f"## Cited pages gone\n\n{gone} went gone in this run (see `link_rot`)."
        items = [
            f"- `{_code(g.url)}`: `{_code(g.last_outcome)}`"
            + (f" (HTTP {g.last_status_code})" if g.last_status_code else "")
            + (f", last answered {g.last_ok_at:%Y-%m-%d %H:%M} UTC" if g.last_ok_at else "")
            + "; its last version stays in the corpus"
            for g in self.gone_pages()
        ]
        more = gone - len(items)
        body = head + ("\n\n" + "\n".join(items) if items else "")
        return body + (f"\n\n… and {more} more." if more > 0 else "")

    def _quotes(self) -> str:
        head = (
            "## Quotations in seeds\n\nEach seed's quotations against the pages it cites: "
            "exact / near / absent / unavailable (see `quote_checks`)."
        )
        seeds = self.seed_quotes()
        if not seeds:
            return f"{head}\n\nNo seed quotes anything checked."
        items = []
        for q in seeds:
            absent = "".join(
                f"\n  - absent from `{_code(url)}`: {_text(quote, 160)}"
                for quote, url in q.absent_quotes
            )
            items.append(
                f"- `{_code(q.seed)}`: {q.exact} exact, {q.near} near, {q.absent} absent, "
                f"{q.unavailable} unavailable{absent}"
            )
        return head + "\n\n" + "\n".join(items)

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


def _summary(
    counts: Sequence[tuple[str, str, int]], totals: Mapping[str, int], counts_key: str
) -> str:
    by_stage: dict[str, list[str]] = {}
    for stage, reason, n in counts:
        by_stage.setdefault(stage, []).append(f"{reason} {n}")
    lines = [f"- **{_text(s, 40)}**: {_text(', '.join(rs), 400)}" for s, rs in by_stage.items()]
    total = ", ".join(f"{name} {n}" for name, n in sorted(totals.items()))
    return (
        "## Counts\n\n"
        + ("\n".join(lines) if lines else "Nothing counted.")
        + f"\n\nDatabase after the run: {total}. The full table is the `{counts_key}` artifact."
    )


def short_diff(diff: str, lines: int = 6, width: int = 160) -> str:
    """The first changed paragraphs of a stored unified diff, each cut to `width` characters."""
    changed = [
        line for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    out = [line if len(line) <= width else line[: width - 1] + "…" for line in changed[:lines]]
    if len(changed) > lines:
        out.append(f"… {len(changed) - lines} more")
    return "\n".join(out)


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
