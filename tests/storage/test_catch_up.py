"""Publishing by rename and the next run's catch-up of the file published before (issue 14)."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from storage import catch_up
from storage.catch_up import SYNC, WHOLE, CatchUpMismatch, stale_path
from storage.changes import mark_values
from storage.database import WorkingDatabase, working_path


def night(db: Path, *statements: str) -> str:
    """One run: open (catch up, copy or resume), write, publish; how the file was made."""
    with WorkingDatabase(db) as work:
        for sql in statements:
            work.con.execute(sql)
        work.publish()
        return work.preparation.how


def add_document(doc_id: int, text: str) -> tuple[str, ...]:
    return (
        f"INSERT OR REPLACE INTO documents (doc_id, kind, url, text) "
        f"VALUES ({doc_id}, 'page', 'https://x.example/{doc_id}', '{text}')",
        f"INSERT INTO changed_docs VALUES ({doc_id})",
    )


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_each_night_after_the_second_catches_up_the_file_published_before(tmp_path: Path) -> None:
    db = tmp_path / "recite.duckdb"
    hows, inodes = [], []
    for n in range(1, 6):
        hows.append(night(db, *add_document(n, f"night {n}"), *add_document(1, f"edited {n}")))
        inodes.append(os.stat(db).st_ino)
    # Night 2 has no file published before night 1's to catch up: it copies.
    assert hows == ["new", "copied", "caught_up", "caught_up", "caught_up"]
    assert inodes[2] == inodes[0] and inodes[3] == inodes[1] and inodes[4] == inodes[2]
    assert rows(db, "SELECT doc_id, text FROM documents ORDER BY 1") == [
        (1, "edited 5"), (2, "night 2"), (3, "night 3"), (4, "night 4"), (5, "night 5")
    ]
    assert not working_path(db).exists() and stale_path(db).exists()


def test_a_write_that_marks_nothing_is_caught_and_never_published_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "recite.duckdb"
    for n in (1, 2):
        night(db, *add_document(n, "first"))
    # An update whose key is not marked: the catch-up would miss it.
    night(db, "UPDATE documents SET text = 'changed, unmarked' WHERE doc_id = 1")
    with pytest.raises(CatchUpMismatch, match="documents"):
        night(db)
    # Not strict (production): the difference is a reason to copy instead.
    monkeypatch.delenv(catch_up.STRICT_ENV, raising=False)
    for n in (1, 2):
        night(tmp_path / "b.duckdb", *add_document(n, "first"))
    night(tmp_path / "b.duckdb", "UPDATE documents SET text = 'changed, unmarked' WHERE doc_id = 1")
    with WorkingDatabase(tmp_path / "b.duckdb") as work:
        assert work.preparation.how == "copied"
        assert "differed" in work.preparation.reason
        assert work.con.execute("SELECT text FROM documents WHERE doc_id = 1").fetchall() == [
            ("changed, unmarked",)
        ]


def test_a_client_holding_the_old_file_makes_the_next_run_copy(tmp_path: Path) -> None:
    db = tmp_path / "recite.duckdb"
    night(db, *add_document(1, "one"))
    night(db, *add_document(2, "two"))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
         "print(c.execute('SELECT count(*) FROM documents').fetchall()[0][0], flush=True); "
         "time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "2"
        assert night(db, *add_document(3, "three")) == "caught_up"
        # The client still holds the file published before: it cannot be written.
        with WorkingDatabase(db) as work:
            assert work.preparation.how == "copied"
            assert "cannot open" in work.preparation.reason
            assert work.con.execute("SELECT count(*) FROM documents").fetchall() == [(3,)]
    finally:
        holder.kill()
        holder.wait()


def test_a_client_that_wrote_into_the_published_file_makes_a_later_run_copy(
    tmp_path: Path,
) -> None:
    db = tmp_path / "recite.duckdb"
    night(db, *add_document(1, "one"))
    night(db, *add_document(2, "two"))
    with duckdb.connect(str(db)) as client:  # read-write, against docs/sql.md's advice
        client.execute("UPDATE documents SET text = 'written by a client' WHERE doc_id = 1")
    # Neither that file nor the next run's file made from it is caught up: both are copied.
    for _ in range(2):
        with WorkingDatabase(db) as work:
            assert work.preparation.how == "copied"
            assert "changed since it was published" in work.preparation.reason
            work.publish()
    assert night(db) == "caught_up"
    assert rows(db, "SELECT text FROM documents WHERE doc_id = 1") == [("written by a client",)]


def test_a_run_killed_before_publishing_resumes_its_working_file(tmp_path: Path) -> None:
    db = tmp_path / "recite.duckdb"
    for n in (1, 2):
        night(db, *add_document(n, "x"))
    with WorkingDatabase(db) as work:  # caught up, written, never published
        assert work.preparation.how == "caught_up"
        for sql in add_document(3, "unpublished"):
            work.con.execute(sql)
    assert rows(db, "SELECT count(*) FROM documents") == [(2,)]
    assert night(db, *add_document(4, "y")) == "resumed"
    assert rows(db, "SELECT doc_id FROM documents ORDER BY 1") == [(1,), (2,), (3,), (4,)]
    assert night(db) == "caught_up"


def test_the_marks_start_afresh_after_a_publish(tmp_path: Path) -> None:
    db = tmp_path / "recite.duckdb"
    night(db, *add_document(1, "x"))
    night(db, *add_document(2, "y"))
    with WorkingDatabase(db) as work:
        assert work.con.execute("SELECT count(*) FROM changed_docs").fetchall() == [(0,)]
        mark_values(work.con, "docs", [7])
        state, based_on = work.con.execute(
            "SELECT state_id, based_on FROM publish_state").fetchall()[0]
        assert state == based_on == rows(db, "SELECT state_id FROM publish_state")[0][0]


def test_every_table_is_synced_by_key_or_small_enough_to_copy_whole(tmp_path: Path) -> None:
    db = tmp_path / "recite.duckdb"
    with WorkingDatabase(db) as work:
        tables = {r[0] for r in work.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
    # A new table must be placed: synced by key if it grows with the corpus.
    assert tables == set(SYNC) | WHOLE | catch_up.OWN
    assert not set(SYNC) & WHOLE
