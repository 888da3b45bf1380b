"""A SQL client holding the published file open during a run: never blocks it, never sees half.

The client is another process (tests/sqlclients/holder.py), connected read-only or
read-write (DuckDB's default, and what DBeaver does unless told otherwise), idle or
querying in a loop for the whole run.
"""

from pathlib import Path

import duckdb
import pytest

from storage.database import WorkingDatabase
from tests.site import Site
from tests.sqlclients.corpus import build, write_seeds
from tests.sqlclients.holder import Holder

pytestmark = pytest.mark.usefixtures("prefect_harness")

# One statement, so one snapshot: a half-published run would show as a mixed row.
STATE = (
    "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM runs), "
    "(SELECT count(*) FROM fetches), (SELECT count(*) FROM near_duplicates)"
)


def first_and_second_night(tmp_path: Path, site: Site) -> tuple[Path, Path, Path]:
    """Seeds for two nights: the first cites a few pages, the second adds the rest."""
    all_seeds = write_seeds(tmp_path / "all", site)
    night = tmp_path / "seeds"
    night.mkdir()
    (night / "talks.txt").write_bytes((all_seeds / "talks.txt").read_bytes())
    return tmp_path / "db" / "recite.duckdb", night, all_seeds


def state(db: Path) -> list[list[int]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [list(row) for row in con.execute(STATE).fetchall()]


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "read-write"])
def test_held_file_neither_blocks_the_run_nor_shows_half_of_it(
    tmp_path: Path, site: Site, read_only: bool
) -> None:
    db, night, all_seeds = first_and_second_night(tmp_path, site)
    build(db, night)
    old = state(db)
    with Holder(db, read_only=read_only) as client:
        assert client.query(STATE) == old
        client.watch(STATE)  # querying all through the run
        for seed in all_seeds.iterdir():
            (night / seed.name).write_bytes(seed.read_bytes())
        summary = build(db, night)  # completes although the file is held
        seen, loops = client.stop()
        assert loops > 10 and seen == [old]  # never anything but the old, whole run

        new = state(db)  # a new connection sees the new run
        assert new[0][0] > old[0][0] and new[0][1] == 2 and new[0][3] > 0
        assert summary.total("documents") == new[0][0]
        assert client.query(STATE) == old  # the holder still sees the old, complete data
    assert state(db) == new  # and after it disconnects, the file is still the new one


def test_a_client_that_wrote_into_the_file_does_not_break_new_connections(
    tmp_path: Path, site: Site
) -> None:
    db, night, _ = first_and_second_night(tmp_path, site)
    build(db, night)
    old = state(db)
    with Holder(db, read_only=False) as client:
        client.query("CREATE TABLE my_notes AS SELECT 1 AS x")  # leaves recite.duckdb.wal
        assert db.with_name(db.name + ".wal").exists()
        build(db, night)
        # Without publish removing that WAL, DuckDB would refuse the new file ("the WAL
        # checkpoint iteration does not match the database file") until the client left.
        assert state(db)[0][1] == 2
        assert client.query("SELECT count(*) FROM my_notes") == [[1]]
        assert client.query(STATE) == old
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'my_notes'"
                           ).fetchone() == (0,)  # writes into the published file do not last


def test_a_process_sees_the_new_run_only_once_all_its_connections_closed(tmp_path: Path) -> None:
    # What docs/sql.md tells notebook users: DuckDB shares one instance per path in a process.
    db = tmp_path / "recite.duckdb"
    with WorkingDatabase(db) as work:
        work.publish()
    old = duckdb.connect(str(db), read_only=True)
    with WorkingDatabase(db) as work:
        work.con.execute("INSERT INTO runs (run_id, status) VALUES ('r2', 'completed')")
        work.publish()
    second = duckdb.connect(str(db), read_only=True)
    assert second.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    second.close()
    old.close()
    with duckdb.connect(str(db), read_only=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM runs").fetchone() == (1,)
