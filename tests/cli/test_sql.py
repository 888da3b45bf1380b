"""`recite sql`: read-only queries printed as tables, a shell, or the duckdb CLI."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.cli.test_main import recite


def test_command_prints_a_table(corpus_db: Path) -> None:
    out = recite("sql", "--db", str(corpus_db), "-c",
                 "SELECT status, count(*) AS n FROM runs GROUP BY status")
    assert out.returncode == 0, out.stderr
    assert "status" in out.stdout and "completed" in out.stdout
    assert "│ completed │ 2 │" in out.stdout
    assert "1 row" in out.stdout


def test_values_are_not_read_as_markup_and_rows_are_capped(corpus_db: Path) -> None:
    out = recite("sql", "--db", str(corpus_db), "--max-rows", "2", "-c",
                 "SELECT '[red]x[/red]' AS v, NULL AS nothing FROM range(5)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("[red]x[/red]") == 2 and "NULL" in out.stdout
    assert "2 rows (more not shown" in out.stdout


def test_dot_tables_lists_names_with_their_meaning(corpus_db: Path) -> None:
    out = recite("sql", "--db", str(corpus_db), "-c", ".tables")
    assert out.returncode == 0, out.stderr
    assert "run_summary" in out.stdout and "One row per run" in out.stdout


def test_the_database_is_opened_read_only(corpus_db: Path) -> None:
    out = recite("sql", "--db", str(corpus_db), "-c", "DELETE FROM runs")
    assert out.returncode == 1
    assert "read-only" in " ".join(out.stderr.split())
    again = recite("sql", "--db", str(corpus_db), "-c", "SELECT count(*) AS n FROM runs")
    assert "│ 2 │" in again.stdout


def test_sql_errors_and_missing_database_exit_1(corpus_db: Path, tmp_path: Path) -> None:
    bad = recite("sql", "--db", str(corpus_db), "-c", "SELECT * FROM nowhere")
    assert bad.returncode == 1 and "nowhere" in bad.stderr
    missing = recite("sql", "--db", str(tmp_path / "none.duckdb"), "-c", "SELECT 1")
    assert missing.returncode == 1 and "no database at" in " ".join(missing.stderr.split())
    assert not (tmp_path / "none.duckdb").exists()


def test_shell_without_the_duckdb_cli(corpus_db: Path, tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path)}  # no duckdb on PATH: the built-in shell
    script = "SELECT count(*)\n  AS documents FROM documents;\n.schema runs\nSELECT x;\n.quit\n"
    out = recite_with_input(["sql", "--db", str(corpus_db)], script, env)
    assert out.returncode == 0, out.stderr
    assert "read-only" in out.stdout and "documents" in out.stdout
    assert "│ 15" in out.stdout  # 5 seeds and 10 pages (/live/... and /retracted/... too)
    assert "finished_at" in out.stdout  # .schema runs
    assert "x" in out.stderr  # the error is shown and the shell goes on


def test_without_c_it_starts_the_duckdb_cli_read_only(corpus_db: Path, tmp_path: Path) -> None:
    fake = tmp_path / "duckdb"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'args'}\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out = recite_with_input(["sql", "--db", str(corpus_db)], "", {"PATH": str(tmp_path)})
    assert out.returncode == 3
    assert (tmp_path / "args").read_text().split() == ["-readonly", str(corpus_db)]


def recite_with_input(
    args: list[str], stdin: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], input=stdin, capture_output=True, text=True,
        timeout=120, env={**os.environ, "COLUMNS": "200", **env},
    )
