"""`recite export-parquet`: every table and the main views, read back from Parquet."""

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from storage.errors import DatabaseUnavailable
from storage.export import EXPORTED_VIEWS, export_parquet
from tests.cli.test_main import recite
from tests.sqlclients.holder import Holder


def columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
        [name],
    ).fetchall()
    return [r[0] for r in rows]


def test_cli_exports_every_table_and_the_main_views(corpus_db: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "exports"
    result = recite("export-parquet", "--db", str(corpus_db), str(out_dir))
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(corpus_db), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()]
        expected = {*tables, *EXPORTED_VIEWS}
        assert {p.stem for p in out_dir.glob("*.parquet")} == expected
        assert {p.name for p in out_dir.iterdir() if p.is_dir()} == {
            "fetches_by_run_date", "documents_by_run_date"}
        assert not list(out_dir.glob(".*"))  # no temporary files left
        for name in sorted(expected):
            table = pq.read_table(out_dir / f"{name}.parquet")
            assert table.column_names == columns(con, name), name
            assert table.num_rows == con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            assert name in result.stdout
        # Values survive the round trip, nested types included.
        assert pq.read_table(out_dir / "fetches.parquet").to_pylist() and sorted(
            pq.read_table(out_dir / "corpus.parquet").column("url").to_pylist()
        ) == sorted(r[0] for r in con.execute("SELECT url FROM corpus").fetchall())
        chains = con.execute("SELECT redirect_chain FROM fetches ORDER BY ALL").fetchall()
        assert sorted(pq.read_table(out_dir / "fetches.parquet").column("redirect_chain")
                      .to_pylist()) == sorted(c for (c,) in chains)


def test_comments_travel_in_the_parquet_metadata(corpus_db: Path, tmp_path: Path) -> None:
    files = {f.name: f for f in export_parquet(corpus_db, tmp_path)}
    meta = pq.read_schema(files["documents"].path).metadata
    assert meta[b"comment"].startswith(b"One row per extracted document")
    assert meta[b"recite_kind"] == b"table"
    assert meta[b"column:content_sha256"].startswith(b"SHA-256 of text")
    assert pq.read_schema(files["run_summary"].path).metadata[b"recite_kind"] == b"view"
    assert files["run_summary"].rows == 2


def test_a_read_write_client_gets_a_clear_message(corpus_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "recite.duckdb"
    copy.write_bytes(corpus_db.read_bytes())
    with Holder(copy, read_only=False), pytest.raises(DatabaseUnavailable, match="read-only"):
        export_parquet(copy, tmp_path / "out")


def test_missing_database_is_reported(tmp_path: Path) -> None:
    result = recite("export-parquet", "--db", str(tmp_path / "none.duckdb"), str(tmp_path / "o"))
    assert result.returncode == 1
    assert "no database at" in " ".join(result.stderr.split())


def test_growing_tables_are_also_hive_partitioned_by_run_date(corpus_db: Path, tmp_path: Path) -> None:
    import pyarrow.dataset as ds

    files = {f.name: f for f in export_parquet(corpus_db, tmp_path)}
    with duckdb.connect(str(corpus_db), read_only=True) as con:
        dates = {d for (d,) in con.execute(
            "SELECT DISTINCT strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%d') FROM runs"
        ).fetchall()}
        for name, table in (("fetches_by_run_date", "fetches"), ("documents_by_run_date", "documents")):
            folder = files[name].path
            assert {p.name for p in folder.iterdir()} <= {f"run_date={d}" for d in dates}
            # Read by pyarrow's dataset reader, as Dask and Spark read such a folder.
            data = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
            assert data.num_rows == files[name].rows == con.execute(
                f"SELECT count(*) FROM {table}").fetchone()[0]
            assert "run_date" in data.column_names and set(columns(con, table)) < set(data.column_names)
    again = {f.name: f for f in export_parquet(corpus_db, tmp_path)}  # replaces, no leftovers
    assert again["fetches_by_run_date"].rows == files["fetches_by_run_date"].rows
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
