"""The quote step over a real DuckDB: seeds edited, the setting changed, pages added."""

import hashlib
from datetime import UTC, datetime

import duckdb
import pytest

from pipeline.quotes import update_quotes
from storage.quotes import QuoteStore
from storage.schema import migrate

AT = datetime(2026, 1, 1, tzinfo=UTC)
SAID = "the talks will go on next week in Vienna with every delegation present"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    return con


def put(con: duckdb.DuckDBPyConnection, doc_id: int, kind: str, text: str) -> None:
    sha = hashlib.sha256(text.encode()).hexdigest()
    con.execute("DELETE FROM documents WHERE doc_id = ?", [doc_id])
    con.execute("INSERT INTO documents (doc_id, kind, url, text, content_sha256, first_seen) "
                "VALUES (?, ?, ?, ?, ?, ?)", [doc_id, kind, f"https://x.org/{doc_id}", text, sha, AT])
    if kind == "page":
        con.execute("INSERT INTO urls (url, doc_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [f"https://x.org/{doc_id}", doc_id])


def seed(con: duckdb.DuckDBPyConnection, text: str, cites: list[int]) -> None:
    put(con, 1, "seed", text)
    con.execute("INSERT INTO seeds (path, doc_id) VALUES ('/s.txt', 1) ON CONFLICT DO NOTHING")
    for page in cites:
        con.execute("INSERT INTO citations (doc_id, url) VALUES (1, ?) ON CONFLICT DO NOTHING",
                    [f"https://x.org/{page}"])


def counts(con: duckdb.DuckDBPyConnection, min_words: int = 3) -> dict[str, int]:
    report = update_quotes(QuoteStore(con), min_words, AT)
    return {reason: n for _, reason, n in report.counts}


def results(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute("SELECT quote, url, result FROM quote_checks ORDER BY ALL").fetchall()


def test_an_edited_seed_gets_its_quotes_and_checks_replaced(con: duckdb.DuckDBPyConnection) -> None:
    put(con, 10, "page", f"Officials said {SAID}.")
    seed(con, f"He said \u201c{SAID}\u201d.", [10])
    assert counts(con) == {"exact": 1, "found": 1, "pages_indexed": 1, "seeds_scanned": 1,
                           "sightings": 1}
    assert counts(con) == {}  # nothing changed: nothing done
    seed(con, "He said \u201cno comment at this time from us\u201d and \u201cwe shall see\u201d.", [10])
    assert counts(con) == {"absent": 2, "found": 2, "seeds_scanned": 1}
    assert [r[2] for r in results(con)] == ["absent", "absent"]
    assert con.execute("SELECT count(*) FROM quote_sightings").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM quote_grams WHERE quote_key NOT IN "
                       "(SELECT quote_key FROM quotes)").fetchall() == [(0,)]


def test_another_min_words_searches_the_seeds_again(con: duckdb.DuckDBPyConnection) -> None:
    seed(con, "They \u201cagreed in principle\u201d and \u201cwill meet again in spring\u201d.", [])
    assert counts(con)["found"] == 2
    assert counts(con, min_words=4) == {"found": 1, "seeds_scanned": 1, "too_short": 1}
    assert con.execute("SELECT text FROM quotes").fetchall() == [("will meet again in spring",)]


def test_new_pages_are_indexed_alone_and_found(con: duckdb.DuckDBPyConnection) -> None:
    put(con, 10, "page", "Nothing relevant here at all, only weather.")
    seed(con, f"He said \u201c{SAID}\u201d.", [10, 11])
    assert counts(con) == {"absent": 1, "found": 1, "pages_indexed": 1, "seeds_scanned": 1,
                           "unavailable": 1}
    put(con, 12, "page", f"A wire story: {SAID.replace('present', 'there')}.")
    assert counts(con) == {"pages_indexed": 1, "sightings": 1}
    (row,) = con.execute("SELECT documents, earliest_doc_id FROM quote_found_elsewhere "
                         "ORDER BY ALL LIMIT 1").fetchall()
    assert row == (1, 12)
    put(con, 11, "page", f"{SAID}.")  # the unavailable page answers at last
    assert counts(con) == {"exact": 1, "pages_indexed": 1, "sightings": 1}
    assert [r[2] for r in results(con)] == ["absent", "exact"]
    put(con, 12, "page", "The wire story was withdrawn.")  # a changed page loses its sighting
    assert counts(con) == {"pages_indexed": 1}
    assert con.execute("SELECT doc_id FROM quote_sightings").fetchall() == [(11,)]
