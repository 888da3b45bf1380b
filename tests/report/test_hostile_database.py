"""The report of a database written by hand through the store code, with what no flow run
on the test site produces: a `javascript:` document URL, markup in titles, the views of
later issues (`quote_checks`, `passage_origins`), and enough clusters to paginate."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dedup.cluster import ClusterMember
from extractors.passages import split_passages
from extractors.records import ExtractedDocument
from pipeline.steps import passage_keys
from report import build_report
from report.build import Limits
from report.render import http_href
from storage.cluster_store import ClusterStore
from storage.database import WorkingDatabase
from storage.dedup_store import DedupStore, PairRow
from storage.outcomes import RunStatus
from storage.records import DocumentRow, document_id
from storage.store import Store
from tests.report.helpers import html_files, parse

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
EVIL_URL = "javascript:document.body.setAttribute('data-pwned','3')"
EVIL_TITLE = "<img src=x onerror=\"document.body.setAttribute('data-pwned','4')\">Title"
STORY = [
    "The committee met on Tuesday to review the annual budget of the regional rail network.",
    "Members asked the ministry for a revised plan before the summer recess, with costs.",
    "A spokesperson said the department would answer every question within four weeks.",
]


def _doc(url: str, title: str, paragraphs: list[str]) -> DocumentRow:
    return DocumentRow(document_id("page", url), "page", url, AT, "test", "1",
                       ExtractedDocument("\n".join(paragraphs), title=title, published="2022-01-10"))


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("hostile-db") / "recite.duckdb"
    docs = [_doc(EVIL_URL, EVIL_TITLE, [STORY[0] + " <script>alert(1)</script>", *STORY[1:]]),
            _doc("https://ok.example/copy", "Copy", STORY)]
    for n in range(12):  # twelve more clusters of two
        text = [f"Story {n}: " + p for p in STORY]
        docs += [_doc(f"https://news{n}.example/a", f"Story {n}", text),
                 _doc(f"https://news{n}.example/b", f"Story {n}", [*text[:2], text[2] + " Updated."])]
    with WorkingDatabase(db) as work:
        passages = [split_passages(d.content.text) for d in docs]
        store = Store(work.con)
        store.start_run("run-1", {}, AT)
        store.save_documents(docs, passages, [passage_keys(p) for p in passages])
        dedup = DedupStore(work.con)
        dedup.set_settings(0.8, 3)
        pairs, members = [], []
        for a, b in zip(docs[::2], docs[1::2], strict=True):
            low, high = sorted((a.doc_id, b.doc_id))
            pairs.append(PairRow(low, high, 0.85, False))
            members += [ClusterMember(a.doc_id, a.doc_id, a.doc_id, True),
                        ClusterMember(b.doc_id, a.doc_id, a.doc_id, False)]
        dedup.save_pairs(pairs, AT)
        ClusterStore(work.con).replace_all(members, 0.8, AT)
        store.finish_run("run-1", RunStatus.COMPLETED, {}, AT)
        # The views of the quotes issue, replaced by hostile rows of the same columns.
        work.con.execute(f"""
            CREATE OR REPLACE VIEW quote_checks AS SELECT * FROM (VALUES
              ('seeds/a.txt', 0, 'the department would answer every question', 'https://ok.example/copy',
               'exact', 1.0, 'the department would answer every question', 1),
              ('seeds/a.txt', 1, '<script>alert(2)</script> said nobody', '{EVIL_URL.replace("'", "''")}',
               'absent', 0.0, NULL, NULL),
              ('seeds/b.txt', 0, 'members asked the ministry', 'https://news1.example/a',
               'near', 0.83, 'Members asked the ministry', 1)
            ) t(seed, quote_ordinal, quote, url, result, containment, matched_text, version)
        """)
        work.con.execute("""
            CREATE OR REPLACE VIEW passage_origins AS
            SELECT norm_hash AS passage_hash, 'exact' AS kind, 'https://ok.example/copy' AS origin_url,
                   '2022-01-10' AS origin_date, 'published' AS date_source
            FROM passages GROUP BY norm_hash
        """)
        work.publish()
    return db


def test_http_href_keeps_only_web_links() -> None:
    assert http_href("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert http_href("HTTP://EXAMPLE.ORG/") == "HTTP://EXAMPLE.ORG/"
    for bad in (EVIL_URL, "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,x",
                "file:///etc/passwd", "vbscript:x", "//example.org/a", "https://", "http://a\nb",
                None, 3, "https://e.org/" + "a" * 2000):
        assert http_href(bad) is None, bad


def test_no_script_link_or_markup_from_the_database(hostile_db: Path, tmp_path: Path) -> None:
    out = build_report(hostile_db, tmp_path / "out").out
    for path in html_files(out):
        text = path.read_text(encoding="utf-8")
        found = parse(text)
        assert found.handlers == [], path.name
        assert "img" not in found.tags, path.name
        assert all(not str(a["href"]).lower().startswith("javascript") for a in found.links)
        assert "<script>alert" not in text and "<img src=x" not in text, path.name
    clusters = (out / "clusters.html").read_text(encoding="utf-8")
    assert "javascript:document.body.setAttribute(&#39;data-pwned&#39;,&#39;3&#39;)" in clusters
    assert "&lt;img src=x onerror=" in clusters


def test_quote_checks_are_shown_when_the_view_exists(hostile_db: Path, tmp_path: Path) -> None:
    result = build_report(hostile_db, tmp_path / "out")
    assert result.quote_checks
    page = (result.out / "quotes.html").read_text(encoding="utf-8")
    assert "not in this database" not in page
    assert '<span class="result result-exact">exact</span>' in page
    assert '<span class="result result-near">near</span> <small>83%</small>' in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt; said nobody" in page
    assert page.index("seeds/a.txt") < page.index("seeds/b.txt")
    passages = (result.out / "passages.html").read_text(encoding="utf-8")
    assert "Origin:" in passages and "2022-01-10" in passages and "(published)" in passages


def test_pages_split_and_their_links_resolve(hostile_db: Path, tmp_path: Path) -> None:
    result = build_report(hostile_db, tmp_path / "out", Limits(clusters_per_page=4))
    assert dict(result.pages)["clusters"] == 4  # 13 clusters, 4 a page
    names = {p.name for p in result.out.iterdir()}
    assert {"clusters.html", "clusters-2.html", "clusters-3.html", "clusters-4.html"} <= names
    for path in html_files(result.out):
        for link in parse(path.read_text(encoding="utf-8")).links:
            href = str(link["href"])
            if not href.startswith(("http://", "https://")):
                assert (result.out / (href.partition("#")[0] or path.name)).is_file(), href
    last = (result.out / "clusters-4.html").read_text(encoding="utf-8")
    assert 'rel="prev"' in last and 'rel="next"' not in last


def test_the_worst_page_stays_under_the_limit(tmp_path: Path) -> None:
    """Texts and URLs made of the characters escaping grows most fill a clusters page."""
    db = tmp_path / "worst.duckdb"
    heavy = '"&<>' * 5_000  # 20,000 characters, 6x or more once escaped
    docs, members, pairs = [], [], []
    for c in range(6):
        family = [_doc(f"https://w{c}.example/{m}?" + "a=&" * 600, f'"{c}"' * 100,
                       [heavy, heavy[: 1000 + m]]) for m in range(14)]
        docs += family
        head = family[0].doc_id
        for d in family:
            members.append(ClusterMember(d.doc_id, head, head, d.doc_id == head))
            if d.doc_id != head:
                low, high = sorted((head, d.doc_id))
                pairs.append(PairRow(low, high, 0.9, False))
    with WorkingDatabase(db) as work:
        passages = [split_passages(d.content.text) for d in docs]
        Store(work.con).save_documents(docs, passages, [passage_keys(p) for p in passages])
        dedup = DedupStore(work.con)
        dedup.set_settings(0.8, 3)
        dedup.save_pairs(pairs, AT)
        ClusterStore(work.con).replace_all(members, 0.8, AT)
        work.publish()
    result = build_report(db, tmp_path / "out")
    size = (result.out / "clusters.html").stat().st_size
    assert 500_000 < size <= 2 * 1024 * 1024  # a full page, and under the bound
    assert result.largest_bytes <= 2 * 1024 * 1024
