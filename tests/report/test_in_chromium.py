"""The report in a real browser: headless Chromium renders the pages from file://.

The DOM after the scripts ran shows the cluster's members and marked words, the hostile
page's markup as text with none of its scripts run (the marker they would set is absent,
while the same markup unescaped does set it: the check can fail), the report's own
search script working, and every link of every page leading to a file that exists.
"""

from pathlib import Path

import pytest

from tests.report.chromium import Chromium, find_chromium
from tests.report.conftest import Built
from tests.report.helpers import html_files, parse
from tests.site import HOSTILE, HOSTILE_MARKER


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Chromium:
    return Chromium(find_chromium(), tmp_path_factory.mktemp("chromium"))


def _body_tag(dom: str) -> str:
    start = dom.index("<body")
    return dom[start : dom.index(">", start) + 1]


def test_cluster_page_shows_both_members_and_the_marked_words(
    report_site: Built, browser: Chromium
) -> None:
    dom = browser.dump_dom((report_site.report / "clusters.html").as_uri())
    found = parse(dom)
    urls = {str(a["href"]) for a in found.links}
    assert any(u.endswith("/letters/hostile") for u in urls)
    assert any(u.endswith("/letters/hostile-copy") for u in urls)
    assert '<mark class="diff">Readers</mark>' in dom
    assert '<mark class="diff">Viewers</mark>' in dom
    assert dom.count('class="member') >= 5  # 3 + 2 members side by side


def test_hostile_markup_is_text_and_never_runs(report_site: Built, browser: Chromium) -> None:
    for page in ("clusters.html", "passages.html"):
        dom = browser.dump_dom((report_site.report / page).as_uri())
        assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in dom
        assert "&lt;img src=x onerror=" in dom
        assert HOSTILE_MARKER not in _body_tag(dom)
        assert "PWNED" not in dom[dom.index("<title>") : dom.index("</title>")]
        found = parse(dom)
        assert "img" not in found.tags and "style" not in found.tags
        assert [s.get("src") for s in found.scripts] == ["report.js"]


def test_the_same_markup_unescaped_would_run(tmp_path: Path, browser: Chromium) -> None:
    """The control: without the report's escaping, the marker is set (the check can fail)."""
    page = tmp_path / "unsafe.html"
    page.write_text(f"<!DOCTYPE html><html><body><p>{HOSTILE[1]}</p></body></html>")
    assert HOSTILE_MARKER in _body_tag(browser.dump_dom(page.as_uri()))


def test_the_reports_own_search_runs(report_site: Built, browser: Chromium) -> None:
    dom = browser.dump_dom((report_site.report / "search.html").as_uri() + "?q=letters/hostile")
    assert "data-search-ready" in _body_tag(dom)
    found = parse(dom)
    results = [a for a in found.links if str(a["href"]).endswith(("/letters/hostile",
                                                                  "/letters/hostile-copy"))]
    # Each page once per place the report shows it: its cluster and the seed's quote checks.
    assert len(results) == 4 and len({str(a["href"]) for a in results}) == 2
    assert all(a.get("rel") == "noopener noreferrer" for a in results)
    assert any(str(a["href"]).startswith("clusters.html#c") for a in found.links)
    assert any(str(a["href"]) == "quotes.html" for a in found.links)
    assert "4 matches" in dom


def test_every_link_of_every_page_leads_to_a_file(report_site: Built, browser: Chromium) -> None:
    report = report_site.report
    for path in html_files(report):
        found = parse(browser.dump_dom(path.as_uri()))
        for link in found.links:
            href = str(link["href"])
            if href.startswith(("http://", "https://")):
                assert link.get("rel") == "noopener noreferrer", (path.name, href)
                continue
            target = href.partition("#")[0] or path.name
            assert (report / target).is_file(), (path.name, href)
        for src in found.sources:
            assert (report / src).is_file(), (path.name, src)
