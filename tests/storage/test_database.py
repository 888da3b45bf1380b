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
    assert working_path(db).exists()
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
