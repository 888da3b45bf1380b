"""`recite report`: the HTML report of the published database, and its errors."""

from pathlib import Path

from report import build_report
from storage.database import WorkingDatabase
from tests.cli.test_main import recite


def _empty_database(path: Path) -> Path:
    with WorkingDatabase(path) as work:
        work.publish()
    return path


def test_report_of_an_empty_database(tmp_path: Path) -> None:
    db = _empty_database(tmp_path / "db" / "recite.duckdb")
    out = recite("report", "--db", str(db), "--out", str(tmp_path / "site"))
    assert out.returncode == 0, out.stderr
    index = tmp_path / "site" / "index.html"
    assert f"open {index.as_uri()}" in out.stdout
    assert "No runs yet" in index.read_text(encoding="utf-8")
    clusters = (tmp_path / "site" / "clusters.html").read_text(encoding="utf-8")
    assert "No duplicate clusters in this database." in clusters
    quotes = (tmp_path / "site" / "quotes.html").read_text(encoding="utf-8")
    assert "No quotes were checked." in quotes


def test_errors_are_one_line_and_exit_1(tmp_path: Path) -> None:
    out = recite("report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "site"))
    assert out.returncode == 1
    assert "report failed" in out.stderr and "no database" in out.stderr
    db = _empty_database(tmp_path / "db" / "recite.duckdb")
    (tmp_path / "notes.txt").write_text("mine")
    out = recite("report", "--db", str(db), "--out", str(tmp_path / "notes.txt"))
    assert out.returncode == 1 and "is a file" in out.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_help_names_the_options_and_pages() -> None:
    out = recite("report", "--help")
    assert out.returncode == 0, out.stderr
    flat = " ".join(out.stdout.split())
    assert "--out" in flat and "--db" in flat and "duplicate clusters" in flat


def test_a_database_without_quote_checks_says_so(tmp_path: Path) -> None:
    # A database published before migration 80 has no quote_checks view.
    db = tmp_path / "db" / "recite.duckdb"
    with WorkingDatabase(db) as work:
        work.con.execute("DROP VIEW quote_checks")
        work.publish()
    result = build_report(db, tmp_path / "site")
    assert result.quote_checks is False
    quotes = (tmp_path / "site" / "quotes.html").read_text(encoding="utf-8")
    assert "Quote checks are not in this database" in quotes
