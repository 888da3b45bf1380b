"""Build the report: read the published database, render every page, swap the folder in.

The pages are rendered into a temporary folder beside `out` and swapped in at the end,
so a reader never sees half a report, and a failed build leaves the last one whole.
"""

import math
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb

import report.queries as queries
from report.chart import build_chart
from report.errors import ReportError
from report.pages import change, chunked, clusters
from report.records import QuoteCheck, SearchEntry
from report.render import MAX_HREF, Renderer
from storage.database import is_memory_size, open_published
from storage.errors import StorageError

# A file in the folder that marks it as a recite report (a folder without it is never
# replaced: `--out` could name a folder of the user's own).
MARKER = ".recite-report"
# No file of the report is larger, whatever the corpus (issue 19).
MAX_FILE_BYTES = 2 * 1024 * 1024

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much each page holds, chosen so that no file can pass MAX_FILE_BYTES.

    Escaping can multiply a text by 6 (a `"` becomes `&#34;`) and a link by 5 (`&amp;`),
    and a link is at most MAX_HREF (2,000) characters. At worst, then, a clusters page
    holds 6 x (4 texts x 5,000 x 6 + 10 listed x 11 KB) = 1.4 MB, a changes page
    20 x 2 x 6,000 x 6 = 1.44 MB (every paragraph changed), a passages page
    20 x (1,500 x 6 + 5 x 11 KB) = 1.3 MB, a quotes page 50 x (2 x 600 x 6 + 10 KB)
    = 0.9 MB, a failures or gone page 100 x 12 KB = 1.2 MB. Real pages are far smaller.
    """

    clusters_per_page: int = 6
    members_shown: int = 4
    members_listed: int = 10
    member_chars: int = 5_000
    passages: int = 5_000
    passages_per_page: int = 20
    passage_chars: int = 1_500
    passage_documents: int = 5
    changes: int = 10_000
    changes_per_page: int = 20
    change_chars: int = 6_000
    gone: int = 50_000
    gone_per_page: int = 100
    quotes: int = 50_000
    quotes_per_page: int = 50
    quote_chars: int = 600
    failures: int = 100_000
    failures_per_page: int = 100
    error_chars: int = 300
    title_chars: int = 200
    search_shard_bytes: int = 1_000_000


@dataclass(frozen=True, slots=True)
class ReportResult:
    """What a build wrote: the folder, its files, and the largest of them."""

    out: Path
    files: int
    largest_bytes: int
    pages: tuple[tuple[str, int], ...]  # (kind, pages written)
    quote_checks: bool

    @property
    def index(self) -> Path:
        """The overview page to open."""
        return self.out / "index.html"


@dataclass
class _Build:
    """The state of one build: where it writes, what the search index has collected."""

    con: duckdb.DuckDBPyConnection
    renderer: Renderer
    limits: Limits
    # What the database holds, by name (queries.TOTALS): the overview shows them, and the
    # pages of clusters, passages, changes and gone pages are counted from them.
    totals: dict[str, int] = field(default_factory=dict)
    search: list[SearchEntry] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)

    def paged(self, kind: str, items: Iterable[T], per_page: int, total: int,
              template: str, **context: object) -> Iterator[tuple[str, list[T]]]:
        """Render `items` into pages of `kind`; yields each page's file name and items first."""
        count = max(1, math.ceil(total / per_page))
        written = 0
        for number, chunk in enumerate(chunked(items, per_page), start=1):
            name = page_name(kind, number)
            yield name, chunk
            self.renderer.page(template, name, kind, items=chunk, page=number, pages=count,
                               total=total, **context)
            written += 1
        if not written:
            self.renderer.page(template, page_name(kind, 1), kind, items=[], page=1, pages=1,
                               total=0, **context)
            written = 1
        self.pages[kind] = written


def page_name(kind: str, number: int) -> str:
    """The file of page `number` of a kind: clusters.html, clusters-2.html, ..."""
    return f"{kind}.html" if number == 1 else f"{kind}-{number}.html"


def build_report(
    db: Path, out: Path, limits: Limits | None = None, memory_limit: str = "512MB"
) -> ReportResult:
    """Render the report of the published database `db` into the folder `out`."""
    limits = limits or Limits()
    out = out.expanduser().absolute()
    _check_target(out, db)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with open_published(db) as con:
            con.execute(f"SET memory_limit = '{_memory(memory_limit)}'")
            con.execute("SET TimeZone = 'UTC'")
            result = _render_all(con, tmp, db, limits)
        _swap(tmp, out)
    except StorageError as exc:
        raise ReportError(str(exc)) from exc
    except duckdb.Error as exc:
        raise ReportError(f"cannot read {db}: {exc}") from exc
    except OSError as exc:
        raise ReportError(f"cannot write the report in {out}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ReportResult(out, *result)


def _memory(value: str) -> str:
    if not is_memory_size(value):
        raise ReportError(f"not a DuckDB memory size: {value!r} (e.g. '512MB')")
    return value


def _render_all(
    con: duckdb.DuckDBPyConnection, folder: Path, db: Path, limits: Limits
) -> tuple[int, int, tuple[tuple[str, int], ...], bool]:
    found = queries.has_quote_checks(con)
    renderer = Renderer(folder, str(db), datetime.now(UTC), quotes=found)
    build = _Build(con, renderer, limits, dict(queries.totals(con)))
    _overview(build)
    _clusters(build)
    _passages(build)
    _changes(build)
    _gone(build)
    _quotes(build, found)
    _failures(build)
    _search(build)
    renderer.static()
    (folder / MARKER).write_text("A recite report; `recite report` replaces this folder.\n")
    files = [p for p in folder.rglob("*") if p.is_file()]
    largest = max((p.stat().st_size for p in files), default=0)
    if largest > MAX_FILE_BYTES:  # the Limits guarantee it; a broken guarantee is a bug
        raise ReportError(f"a report file is {largest} bytes, over {MAX_FILE_BYTES}")
    return len(files), largest, tuple(sorted(build.pages.items())), found


def _overview(build: _Build) -> None:
    points = queries.run_points(build.con)
    build.renderer.page(
        "overview.html", "index.html", "overview", latest=queries.latest_run(build.con),
        chart=build_chart(points), recent=list(reversed(points[-20:])),
        totals=list(build.totals.items()),
    )
    build.pages["overview"] = 1


def _clusters(build: _Build) -> None:
    lim = build.limits
    rows = queries.cluster_members(build.con, lim.members_shown, lim.members_listed, lim.member_chars)
    total = build.totals["duplicate clusters"]
    for name, chunk in build.paged("clusters", clusters(rows, lim.member_chars),
                                   lim.clusters_per_page, total, "clusters.html",
                                   member_chars=lim.member_chars):
        for item in chunk:
            for m in [s.member for s in item.shown] + list(item.listed):
                build.search.append(SearchEntry(
                    m.url, m.title or "", "duplicate cluster", f"{name}#c{item.cluster_id}"
                ))


def _passages(build: _Build) -> None:
    lim = build.limits
    total = min(lim.passages, build.totals["repeated passages"])
    items = queries.repeated_passages(build.con, lim.passages, lim.passage_documents,
                                      lim.passage_chars)
    origins = queries.has_origins(build.con)
    for _ in build.paged("passages", items, lim.passages_per_page, total, "passages.html",
                         origins=origins, limit=lim.passages):
        pass


def _changes(build: _Build) -> None:
    lim = build.limits
    all_changes = build.totals["page changes"]
    total = min(lim.changes, all_changes)
    items = (change(*row) for row in queries.changes(build.con, lim.changes, lim.change_chars))
    number = 0
    for name, chunk in build.paged("changes", items, lim.changes_per_page, total, "changes.html",
                                   all_changes=all_changes, change_chars=lim.change_chars,
                                   changes_per_page=lim.changes_per_page):
        for item in chunk:
            number += 1
            build.search.append(SearchEntry(
                item.url, item.title_after or "", "page change", f"{name}#ch{number}"
            ))


def _gone(build: _Build) -> None:
    lim = build.limits
    all_gone = build.totals["gone pages"]
    total = min(lim.gone, all_gone)
    for name, chunk in build.paged("gone", queries.gone(build.con, lim.gone), lim.gone_per_page,
                                   total, "gone.html", all_gone=all_gone):
        build.search.extend(SearchEntry(g.url, "", "gone page", name) for g in chunk)


def _quotes(build: _Build, found: bool) -> None:
    lim = build.limits
    if not found:
        build.renderer.page("quotes.html", page_name("quotes", 1), "quotes", items=[], page=1,
                            pages=1, total=0, available=False)
        build.pages["quotes"] = 1
        return
    total = min(lim.quotes, queries.count(build.con, "SELECT count(*) FROM quote_checks"))
    items: Iterable[QuoteCheck] = queries.quote_checks(build.con, lim.quotes, lim.quote_chars)
    for name, chunk in build.paged("quotes", items, lim.quotes_per_page, total, "quotes.html",
                                   available=True):
        # A page cited by many quotations is one search entry per report page.
        urls = dict.fromkeys(q.url for q in chunk)
        build.search.extend(SearchEntry(url, "", "quote check", name) for url in urls)


def _failures(build: _Build) -> None:
    lim = build.limits
    reasons = queries.failure_reasons(build.con)
    total = min(lim.failures, sum(n for _, n in reasons))
    starts = _reason_pages(reasons, lim.failures_per_page)
    items = queries.failures(build.con, lim.failures, lim.error_chars)
    for name, chunk in build.paged("failures", items, lim.failures_per_page, total,
                                   "failures.html", reasons=reasons, starts=starts):
        build.search.extend(SearchEntry(f.url, "", f"fetch failure: {f.outcome}", name)
                            for f in chunk)


def _reason_pages(reasons: Sequence[tuple[str, int]], per_page: int) -> dict[str, str]:
    """For each reason, the failures page its list starts on (the list is by reason)."""
    starts: dict[str, str] = {}
    offset = 0
    for reason, n in sorted(reasons):
        starts[reason] = page_name("failures", offset // per_page + 1)
        offset += n
    return starts


def _search(build: _Build) -> None:
    seen = {entry.url for entry in build.search}
    pages = (
        SearchEntry(url, title, "page", "")
        for url, title in queries.documents(build.con, build.limits.title_chars)
        if url not in seen
    )
    # A URL too long to link is left out of the index too (it bounds each entry's size).
    entries = [e for e in [*build.search, *pages] if len(e.url) <= MAX_HREF]
    shards = build.renderer.search_index(entries, build.limits.search_shard_bytes)
    build.renderer.page("search.html", "search.html", "search", shards=shards)
    build.pages["search"] = 1


def _check_target(out: Path, db: Path) -> None:
    """Refuse a folder that is not a report, or the database's own folder."""
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out} is a file; give a folder for the report")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ReportError(
            f"{out} holds files that are not a recite report; give an empty or new folder"
        )
    if db.expanduser().absolute().parent == out:
        raise ReportError(f"{out} is the database's folder; give a folder of its own")


def _swap(tmp: Path, out: Path) -> None:
    """Put the rendered folder `tmp` in place of `out` (the previous report goes)."""
    if not out.exists():
        tmp.rename(out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
