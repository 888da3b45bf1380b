import subprocess
import sys

import duckdb
import pytest

from storage.database import WorkingDatabase, working_path
from storage.errors import DatabaseLocked


def test_publish_replaces_the_client_file_atomically(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "data" / "recite.duckdb"
    with WorkingDatabase(db) as work:
        work.con.execute("INSERT INTO runs (run_id, status) VALUES ('r1', 'completed')")
        assert not db.exists()  # nothing is visible before publishing
        work.publish()
    assert not working_path(db).exists()  # renamed over the client file, not copied
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT run_id FROM runs").fetchall() == [("r1",)]


def test_unpublished_work_stays_invisible(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "recite.duckdb"
    with WorkingDatabase(db) as work:
        work.publish()
    with WorkingDatabase(db) as work:
        work.con.execute("INSERT INTO runs (run_id, status) VALUES ('r2', 'running')")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_second_writer_gets_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "recite.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(60)", str(working_path(db))],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        with pytest.raises(DatabaseLocked, match="another recite run"):
            WorkingDatabase(db).open()
    finally:
        holder.kill()
        holder.wait()


def test_the_memory_limit_applies_to_the_run_connection(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with WorkingDatabase(tmp_path / "x.duckdb", "256MB") as wdb:
        (limit,) = wdb.con.execute("SELECT current_setting('memory_limit')").fetchall()[0]
    assert limit == "244.1 MiB"  # DuckDB prints 256 MB in MiB
    with WorkingDatabase(tmp_path / "y.duckdb", "1GiB") as wdb:
        (limit,) = wdb.con.execute("SELECT current_setting('memory_limit')").fetchall()[0]
    assert limit == "1.0 GiB"


@pytest.mark.parametrize("bad", ["lots", "1GB\n", "1GB'; DROP TABLE runs; --", "-1GB", "1 XB", ""])
def test_a_memory_limit_that_is_not_a_size_is_refused_before_connecting(tmp_path, bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="not a DuckDB memory size"):
        WorkingDatabase(tmp_path / "x.duckdb", bad)
    assert not (tmp_path / "x.duckdb.work").exists()


def test_the_flow_parameter_takes_a_size_and_refuses_anything_else() -> None:
    from pydantic import ValidationError

    from flows.settings import IngestParameters

    assert IngestParameters().db_memory_limit == "1GB"
    assert IngestParameters(db_memory_limit="512 MiB").db_memory_limit == "512 MiB"
    with pytest.raises(ValidationError):
        IngestParameters(db_memory_limit="1GB; SET threads=1")
