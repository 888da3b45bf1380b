"""The report of a database the real flow built over two nights of the test site.

report/: every page's content, its safety (escaping, CSP, links), its size bound; the
flow's --report-dir (the second night rendered the report itself).
"""

import html
import json
import re
from pathlib import Path

import pytest

from report import ReportError, build_report
from report.build import MARKER, MAX_FILE_BYTES
from report.render import CSP
from storage.database import WorkingDatabase
from tests.report.conftest import Built
from tests.report.helpers import html_files, parse
from tests.site import HOSTILE_MARKER


def _read(report: Path, name: str) -> str:
    return (report / name).read_text(encoding="utf-8")


def test_the_run_rendered_the_report(report_site: Built) -> None:
    assert report_site.summary.warnings == ()
    names = {p.name for p in report_site.report.iterdir()}
    for page in ("index.html", "clusters.html", "passages.html", "changes.html", "gone.html",
                 "quotes.html", "failures.html", "search.html", "report.js", "report.css",
                 "search-index-1.js", MARKER):
        assert page in names, page


def test_overview_has_the_latest_run_and_a_chart_of_both_nights(report_site: Built) -> None:
    page = _read(report_site.report, "index.html")
    assert report_site.summary.run_id in page
    found = parse(page)
    assert "svg" in found.tags and "polyline" in found.tags
    # One dot per run in each of the five series.
    assert page.count("<circle") == 2 * 5
    assert "pages fetched" in page and "duplicate pairs found" in page


def test_clusters_side_by_side_with_the_differing_words_marked(report_site: Built) -> None:
    page = _read(report_site.report, "clusters.html")
    for path in ("/letters/hostile", "/letters/hostile-copy", "/news/geneva-talks",
                 "/reprint/geneva-talks"):
        assert f':{path.split(":")[-1]}"' in page or path + '"' in page, path
    # The canonical and the copy each mark the word the other lacks.
    assert '<mark class="diff">Readers</mark>' in page
    assert '<mark class="diff">Viewers</mark>' in page
    assert '<mark class="diff">morning</mark>' in page  # the reprint's extra word
    assert "canonical" in page and "Jaccard 0.9" in page


def test_hostile_markup_is_escaped_text(report_site: Built) -> None:
    clusters = _read(report_site.report, "clusters.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in clusters
    for page in ("clusters.html", "passages.html"):
        text = _read(report_site.report, page)
        assert "&lt;img src=x onerror=&#34;document.body" in text
        assert "&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;" in text
        assert "<script>alert" not in text and "<img src=x" not in text
        assert "<style>body" not in text and "<script>document" not in text
    found = parse(_read(report_site.report, "clusters.html"))
    assert all(not (a.get("href") or "").lower().startswith("javascript") for a in found.links)
    assert HOSTILE_MARKER not in html.unescape(_read(report_site.report, "index.html"))


def test_every_page_has_the_policy_and_only_the_reports_own_scripts(report_site: Built) -> None:
    for path in html_files(report_site.report):
        found = parse(path.read_text(encoding="utf-8"))
        assert found.csp == [CSP], path.name
        assert found.handlers == [], path.name
        for script in found.scripts:
            assert re.fullmatch(r"report\.js|search-index-\d+\.js", script.get("src") or ""), (
                path.name, script)
    assert "script-src 'self'" in CSP and "object-src 'none'" in CSP and "base-uri 'none'" in CSP
    assert "unsafe-inline" not in CSP


def test_every_link_resolves(report_site: Built) -> None:
    report = report_site.report
    ids = {p.name: parse(p.read_text(encoding="utf-8")).ids for p in html_files(report)}
    external = 0
    for path in html_files(report):
        found = parse(path.read_text(encoding="utf-8"))
        for src in found.sources:
            assert (report / src).is_file(), (path.name, src)
        for link in found.links:
            href = str(link["href"])
            if href.startswith(("http://", "https://")):
                external += 1
                assert link.get("rel") == "noopener noreferrer", (path.name, href)
                continue
            name, _, fragment = href.partition("#")
            target = name or path.name
            assert (report / target).is_file(), (path.name, href)
            if fragment:
                assert fragment in ids[target], (path.name, href)
    assert external > 10


def test_page_changes_and_gone_pages(report_site: Built) -> None:
    changes = _read(report_site.report, "changes.html")
    assert html.escape(report_site.live_url) in changes
    assert "version 1 → 2" in changes
    assert 'class="added' in changes and "<mark class=\"diff\">2</mark>" in changes
    gone = _read(report_site.report, "gone.html")
    assert "/retracted/" in gone


def test_failures_by_reason(report_site: Built) -> None:
    failures = _read(report_site.report, "failures.html")
    assert 'id="r-http_4xx"' in failures and "/missing" in failures
    assert "unsupported_type" in failures and "/report.pdf" in failures


def test_quote_checks_of_the_real_view(report_site: Built) -> None:
    quotes = _read(report_site.report, "quotes.html")
    rows = quotes.split('<tr><td class="quote">')[1:]
    geneva = [r for r in rows if r.startswith("“diplomats from Russia") and "/news/geneva-talks" in r]
    assert len(geneva) == 1 and 'result-exact">exact' in geneva[0]
    assert "Diplomats from Russia and the United States met in Geneva" in geneva[0]  # the page's words
    hostile = [r for r in rows if "alert(3)" in r]
    assert hostile and all("&lt;script&gt;alert(3)&lt;/script&gt;" in r for r in hostile)
    assert all('result-absent">absent' in r for r in hostile if "/news/geneva-talks" in r)
    assert "<script>alert(3)" not in quotes


def test_repeated_passages_mark_boilerplate(report_site: Built) -> None:
    page = _read(report_site.report, "passages.html")
    sections = page.split('<section class="passage"')[1:]
    closed = [s for s in sections if "Comments are closed for this article" in s]
    assert len(closed) == 1
    assert '<span class="badge boilerplate">boilerplate</span>' in closed[0]
    assert "/opinion/one" in closed[0] and "/opinion/three" in closed[0]
    letters = [s for s in sections if "The editors thank every reader" in s]
    assert letters and "badge boilerplate" not in letters[0]  # two documents: not boilerplate
    assert "Origin: " in closed[0]  # passage_origins: the page that published it first


def test_search_index_holds_the_pages(report_site: Built) -> None:
    rows = []
    for shard in sorted(report_site.report.glob("search-index-*.js")):
        body = shard.read_text(encoding="ascii")
        start, end = body.index("push(") + 5, body.rindex(");")
        rows.extend(json.loads(body[start:end]))
    where: dict[str, list[str]] = {}
    for row in rows:
        where.setdefault(row[0], []).append(row[3])
    assert report_site.live_url in where
    hostile = next(u for u in where if u.endswith("/letters/hostile"))
    assert any(page.startswith("clusters.html#c") for page in where[hostile])
    assert [page for page in where[hostile] if page.startswith("quotes")] == ["quotes.html"]


def test_no_file_is_over_the_limit(report_site: Built) -> None:
    assert max(p.stat().st_size for p in report_site.report.iterdir()) <= MAX_FILE_BYTES


def test_builds_while_a_run_holds_the_working_database(report_site: Built, tmp_path: Path) -> None:
    # A run holds <db>.work read-write; the report reads the published file beside it.
    with WorkingDatabase(report_site.db):
        result = build_report(report_site.db, tmp_path / "out")
    assert result.index.is_file() and result.files >= 12


def test_a_rebuild_replaces_the_report_whole(report_site: Built, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_report(report_site.db, out)
    (out / "clusters-99.html").write_text("left over")
    build_report(report_site.db, out)
    assert not (out / "clusters-99.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left


def test_refuses_a_folder_that_is_not_a_report(report_site: Built, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("my notes")
    with pytest.raises(ReportError, match="not a recite report"):
        build_report(report_site.db, tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "my notes"
    with pytest.raises(ReportError, match="is a file"):
        build_report(report_site.db, tmp_path / "mine.txt")


def test_no_database(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no database"):
        build_report(tmp_path / "none.duckdb", tmp_path / "out")
    assert not (tmp_path / "out").exists()
