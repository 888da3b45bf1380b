"""Every SQL block of docs/sql.md runs, and returns rows, on a database the real flow built."""

import re
from pathlib import Path

import duckdb
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "sql.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[tuple[str, str]]:
    """(heading above it, text) of each fenced block in the given language."""
    text = DOC.read_text()
    out = []
    for match in _BLOCK.finditer(text):
        if match.group(1) == language:
            headings = re.findall(r"^#+ (.+)$", text[: match.start()], re.MULTILINE)
            out.append((headings[-1] if headings else "", match.group(2)))
    return out


QUERIES = blocks("sql")


def runnable(sql: str, db: Path) -> str:
    """A documented query with the documented database path replaced by `db`."""
    return sql.replace("data/recite.duckdb", str(db))


def test_the_page_documents_a_dozen_queries() -> None:
    assert len(QUERIES) >= 12
    assert len({title for title, _ in QUERIES}) == len(QUERIES)  # one query per heading


@pytest.mark.parametrize(("title", "sql"), QUERIES, ids=[t for t, _ in QUERIES])
def test_documented_query_returns_rows(corpus_db: Path, title: str, sql: str) -> None:
    with duckdb.connect(str(corpus_db), read_only=True) as con:
        rows = con.execute(runnable(sql, corpus_db)).fetchall()
    # The corpus (tests/sqlclients/corpus.py) is built so that every query has an answer.
    assert rows, title


def test_documented_python_snippet_runs(corpus_db: Path) -> None:
    (snippet,) = [code for _, code in blocks("python")]
    namespace: dict[str, object] = {}
    exec(snippet.replace("data/recite.duckdb", str(corpus_db)), namespace)
    assert namespace["runs"] and namespace["pages"]


def test_attach_read_only_next_to_your_own_database(corpus_db: Path, tmp_path: Path) -> None:
    (statement,) = re.findall(r"`(ATTACH '[^`]+)`", DOC.read_text())
    with duckdb.connect(str(tmp_path / "mine.duckdb")) as con, \
            duckdb.connect(str(corpus_db), read_only=True) as other_reader:
        con.execute(statement.replace("data/recite.duckdb", str(corpus_db)))
        con.execute("CREATE TABLE notes AS SELECT url FROM recite.corpus")
        assert con.execute("SELECT count(*) FROM notes").fetchone() == (
            other_reader.execute("SELECT count(*) FROM corpus").fetchone())


def test_results_match_the_fixture(corpus_db: Path) -> None:
    by_title = dict(QUERIES)
    with duckdb.connect(str(corpus_db), read_only=True) as con:
        outlets = con.execute(by_title["Which outlets republish which"]).fetchall()
        boilerplate = con.execute(by_title["Boilerplate by site"]).fetchall()
        same_story = con.execute(by_title["Which seeds cite the same story"]).fetchall()
        failed = con.execute(by_title["What failed last night, and why"]).fetchall()
    assert outlets == [("127.0.0.1", "localhost", 1)]
    assert [(site, stories) for site, _, stories in boilerplate] == [("127.0.0.1", 3)]
    assert boilerplate[0][1].startswith("Comments are closed")
    ((title, seeds, files),) = same_story
    assert title.startswith("Geneva talks") and seeds == 2
    assert [Path(f).name for f in files] == ["reprints.md", "talks.txt"]
    # /missing, and /retracted/... gone on the second night.
    assert sorted(row[0] for row in failed) == [
        "http_4xx", "http_4xx", "no_main_text", "unsupported_type"]
