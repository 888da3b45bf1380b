"""Quotations in seeds checked against the pages they cite, in a real run on the test site.

Each seed quotes one statement and cites one page that has it exactly, with straight
quotes for curly ones, broken across lines, with one word changed (near), not at all
(absent), not at all while another page holds it (found elsewhere), or behind a page
that fails (unavailable). Pages with published dates, and without, decide who published
a repeated passage first.
"""

import asyncio
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from pipeline.summary import RunSummary
from storage.run_report import RunReport
from tests.flows.test_ingest import params, query
from tests.site import NOT_FOUND, Response, Site, article, pages, serve_site

pytestmark = pytest.mark.usefixtures("prefect_harness")

STATEMENT = (
    "Russia can put its concerns on the table and we will put our concerns on the table "
    "with Russia's actions in Ukraine and in the wider region"
)
CURLY = STATEMENT.replace("Russia's", "Russia\u2019s")
FILLER = [
    "The foreign ministers met for the second time this month in a hotel near the lake, "
    "where the press waited for several hours in the rain for any statement at all.",
    "Officials on both sides declined to describe the atmosphere of the meeting, and "
    "a joint communique was not expected before the end of the week.",
]
SHARED = (
    "Negotiators from both delegations agreed to meet again next month in Vienna to "
    "review a draft on confidence-building measures and military exercises."
)
SHARED_NEAR = SHARED.replace("military exercises", "military drills")
UNDATED_SHARED = (
    "The harbour authority said ferries would run on a reduced timetable until the "
    "storm damage to the northern pier has been surveyed and repaired."
)


def undated(title: str, paragraphs: list[str]) -> str:
    """A page with no date anywhere."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"</head><body><main><article><h1>{title}</h1>{body}</article></main></body></html>")


QUOTE_PAGES: dict[str, str] = {
    "/q/exact": article("Exact", "A", "2022-01-10", [*FILLER, f"He said: \u201c{CURLY}.\u201d"]),
    "/q/straight": article("Straight", "A", "2022-01-10", [FILLER[0], f'He said: "{STATEMENT}."']),
    "/q/wrapped": article("Wrapped", "A", "2022-01-10",
                          [FILLER[1], "He said: " + STATEMENT.replace(" table ", " table\n")]),
    "/q/near": article("Near", "A", "2022-01-10",
                       [FILLER[0], "He said: " + STATEMENT.replace("wider region", "wider area")]),
    "/q/absent": article("Absent", "A", "2022-01-10", FILLER),
    "/q/holder": article("Holder", "A", "2022-01-09", [FILLER[1], f"Quote: {STATEMENT}."]),
    "/o/first": article("First", "B", "2022-01-05", [FILLER[0], SHARED]),
    "/o/second": article("Second", "B", "2022-01-08", [FILLER[1], SHARED]),
    "/o/third": article("Third", "B", "2022-01-20", [SHARED_NEAR]),
    "/o/undated-a": undated("Undated A", [UNDATED_SHARED, FILLER[0]]),
    "/o/undated-b": undated("Undated B", [UNDATED_SHARED]),
}
# (seed file, the page it cites, how its quotation is written in the seed)
SEEDS = {
    "exact": ("/q/exact", f"The envoy said \u201c{CURLY}\u201d on Monday."),
    "straight": ("/q/straight", f"The envoy said \u201c{CURLY}\u201d on Monday."),
    "wrapped": ("/q/wrapped", "The envoy said \u201c" + CURLY.replace(" on the ", "\non the ")
                + "\u201d\non Monday."),
    "near": ("/q/near", f"The envoy said \u201c{CURLY}\u201d on Monday."),
    "absent": ("/q/absent", "The envoy said \u201cwe have nothing to add to what the minister "
               "said in Brussels last week\u201d on Monday."),
    "elsewhere": ("/q/absent", f"The envoy said \u201c{CURLY}\u201d on Monday."),
    "failing": ("/q/fails", f"The envoy said \u201c{CURLY}\u201d on Monday."),
    "copying": ("/o/second", f"{SHARED_NEAR}\n\n{FILLER[0]}"),
}


def answer(site: Site, path: str, headers: Message) -> Response:
    if path == "/q/fails":
        return Response(500, b"server error", "text/html")
    if path in QUOTE_PAGES:
        return Response(200, QUOTE_PAGES[path].encode("utf-8"))
    return pages(site, path, headers) if path != "/q/none" else NOT_FOUND


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, RunSummary]]:
    root = tmp_path_factory.mktemp("quotes")
    folder = root / "seeds"
    folder.mkdir()
    with serve_site(answer) as site:
        for name, (path, text) in SEEDS.items():
            (folder / f"{name}.txt").write_text(f"{text}\n\nSource: {site.url(path)}\n")
        others = [site.url(p) for p in QUOTE_PAGES if p not in {c for c, _ in SEEDS.values()}]
        (folder / "reading.txt").write_text("Further reading:\n" + "\n".join(others) + "\n")
        run = params(root, [folder])
        summary = asyncio.run(ingest(run))
        yield run.db, summary


@pytest.fixture(scope="module")
def db(ran: tuple[str, RunSummary]) -> str:
    return ran[0]


def checks(db: str, seed: str) -> list[tuple[object, ...]]:
    return query(db, "SELECT url, result, containment, matched_text, version FROM quote_checks "
                 "WHERE seed LIKE ? ORDER BY quote_ordinal", [f"%/{seed}.txt"])


def support(db: str, seed: str) -> tuple[object, ...]:
    (row,) = query(db, "SELECT quotes_checked, exact, near, absent, unavailable "
                   "FROM citation_support WHERE seed LIKE ?", [f"%/{seed}.txt"])
    return row


@pytest.mark.parametrize("seed", ["exact", "straight", "wrapped"])
def test_exact(db: str, seed: str) -> None:
    ((url, result, containment, matched, version),) = checks(db, seed)
    assert str(url).endswith(SEEDS[seed][0])
    assert (result, containment, version) == ("exact", 1.0, 1)
    assert "concerns on the table" in str(matched) and "wider region" in str(matched)
    assert support(db, seed) == (1, 1, 0, 0, 0)


def test_one_word_changed_is_near(db: str) -> None:
    ((_, result, containment, matched, version),) = checks(db, "near")
    assert result == "near" and version == 1
    assert 0.8 <= float(containment) < 1.0  # type: ignore[arg-type]
    assert str(matched).startswith("Russia can put")
    assert support(db, "near") == (1, 0, 1, 0, 0)


def test_absent(db: str) -> None:
    ((_, result, containment, matched, version),) = checks(db, "absent")
    assert (result, matched, version) == ("absent", None, 1)
    assert float(containment) < 0.8  # type: ignore[arg-type]
    assert support(db, "absent") == (1, 0, 0, 1, 0)
    assert query(db, "SELECT count(*) FROM quote_found_elsewhere WHERE seed LIKE '%/absent.txt'") == [(0,)]


def test_absent_but_found_elsewhere(db: str) -> None:
    ((_, result, _, _, _),) = checks(db, "elsewhere")
    assert result == "absent"
    assert support(db, "elsewhere") == (1, 0, 0, 1, 0)
    rows = query(db, "SELECT documents, exact_documents, earliest_url, earliest_date, date_source "
                 "FROM quote_found_elsewhere WHERE seed LIKE '%/elsewhere.txt'")
    # /q/exact, /q/straight, /q/wrapped and /q/holder hold it exactly, /q/near nearly;
    # /q/holder was published first (2022-01-09).
    assert len(rows) == 1
    documents, exact_documents, url, date, source = rows[0]
    assert (documents, exact_documents) == (5, 4)
    assert str(url).endswith("/q/holder")
    assert (str(date), source) == ("2022-01-09", "published")


def test_a_failing_page_is_unavailable_not_absent(db: str) -> None:
    assert checks(db, "failing") == [(checks(db, "failing")[0][0], "unavailable", None, None, None)]
    assert support(db, "failing") == (1, 0, 0, 0, 1)
    (row,) = query(db, "SELECT documents, earliest_url FROM quote_found_elsewhere "
                   "WHERE seed LIKE '%/failing.txt'")
    assert row[0] == 5 and str(row[1]).endswith("/q/holder")


def test_quotes_table(db: str) -> None:
    rows = query(db, "SELECT s.path, q.text, q.start_char, q.end_char, q.words, d.text "
                 "FROM quotes q JOIN seeds s ON s.doc_id = q.seed_doc_id "
                 "JOIN documents d ON d.doc_id = q.seed_doc_id")
    assert len(rows) == len(SEEDS) - 1  # the copying seed quotes nothing
    for _path, text, start, end, words, seed_text in rows:
        assert str(seed_text)[int(start):int(end)].split() == str(text).split()  # type: ignore[call-overload]
        assert words == len(str(text).split())
    (wrapped,) = [r for r in rows if str(r[0]).endswith("/wrapped.txt")]
    assert wrapped[1] == CURLY


def test_passage_origins_by_published_date(db: str) -> None:
    rows = query(db, "SELECT kind, origin_url, origin_date, date_source, copies, latest_lag_days "
                 "FROM passage_origins WHERE text = ? AND kind = 'exact'", [SHARED])
    assert len(rows) == 1
    kind, url, date, source, copies, lag = rows[0]
    assert kind == "exact" and str(url).endswith("/o/first")
    assert (str(date), source, copies, lag) == ("2022-01-05", "published", 1, 3)
    near = query(db, "SELECT origin_url, date_source, copies, latest_lag_days "
                 "FROM passage_origins WHERE kind = 'near' AND origin_url LIKE '%/o/%'")
    assert [(str(u).rsplit("/", 2)[-2:], s, c, lag) for u, s, c, lag in near] == [
        (["o", "first"], "published", 2, 15)
    ]


def test_passage_origins_fall_back_to_first_seen(db: str) -> None:
    (row,) = query(db, "SELECT origin_url, date_source, copies, origin_date = "
                   "(SELECT min(first_seen)::DATE FROM documents WHERE url LIKE '%/o/undated-%') "
                   "FROM passage_origins WHERE text = ?", [UNDATED_SHARED])
    assert "/o/undated-" in str(row[0])
    assert row[1:] == ("first_seen", 1, True)


def test_near_duplicates_name_the_earlier_document(db: str) -> None:
    rows = query(db, "SELECT url_a, url_b, earlier_url, earlier_date, earlier_date_source "
                 "FROM near_duplicates")
    assert rows, "the site has near-duplicate pages"
    for url_a, url_b, earlier, date, source in rows:
        assert earlier in (url_a, url_b)
        assert source in ("published", "first_seen") and date is not None


def test_passage_share(db: str) -> None:
    # The copying seed has three passages: one near-repeated on the page it cites, one on
    # another page, and its "Source:" line; a seed citing a page that failed has no share.
    share = query(db, "SELECT quotes_checked, round(passage_share, 3) FROM citation_support "
                  "WHERE seed LIKE '%/copying.txt'")
    assert share == [(0, 0.333)]
    assert query(db, "SELECT passage_share FROM citation_support WHERE seed LIKE '%/failing.txt'") \
        == [(None,)]


def test_the_run_summary_and_report_show_each_seed(ran: tuple[str, RunSummary]) -> None:
    db, summary = ran
    by_seed = {Path(q.seed).stem: q for q in summary.quotes}
    assert set(by_seed) == set(SEEDS) - {"copying"}
    absent = by_seed["absent"]
    assert (absent.exact, absent.near, absent.absent, absent.unavailable) == (0, 0, 1, 0)
    assert absent.absent_quotes[0][0].startswith("we have nothing to add")
    assert absent.absent_quotes[0][1].endswith("/q/absent")
    assert (by_seed["near"].near, by_seed["failing"].unavailable) == (1, 1)
    with duckdb.connect(db, read_only=True) as con:
        section = RunReport(con, summary.run_id, db)._quotes()
    assert "## Quotations in seeds" in section
    assert "0 exact, 0 near, 1 absent, 0 unavailable" in section
    assert "we have nothing to add" in section
