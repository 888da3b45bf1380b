"""A run that fails or is killed midway publishes nothing; the next run completes."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import flows.ingest
from storage.database import working_path
from tests.site import Site, serve_site
from tests.sqlclients.corpus import build, write_seeds

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def slow_site() -> Iterator[Site]:
    """A site of its own, whose /gate/ page does not answer until the test opens the gate."""
    with serve_site() as running:
        yield running


def fingerprint(db: Path) -> tuple[str, int]:
    """The published file's content hash and inode: both unchanged means untouched."""
    return hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_ino


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def first_night(tmp_path: Path, site: Site) -> tuple[Path, Path, Path]:
    """The published database after a first night over one seed; all seeds for later."""
    all_seeds = write_seeds(tmp_path / "all", site)
    night = tmp_path / "seeds"
    night.mkdir()
    (night / "talks.txt").write_bytes((all_seeds / "talks.txt").read_bytes())
    db = tmp_path / "db" / "recite.duckdb"
    build(db, night)
    return db, night, all_seeds


def test_a_run_failing_midway_publishes_nothing(
    tmp_path: Path, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, night, all_seeds = first_night(tmp_path, site)
    before = fingerprint(db)
    for seed in all_seeds.iterdir():
        (night / seed.name).write_bytes(seed.read_bytes())

    def broken_dedup(*args: object) -> None:
        raise RuntimeError("dedup broke")

    monkeypatch.setattr(flows.ingest, "_dedup", broken_dedup)  # after fetching and storing
    with pytest.raises(RuntimeError, match="dedup broke"):
        build(db, night)
    assert fingerprint(db) == before
    assert rows(db, "SELECT status FROM runs") == [("completed",)]

    monkeypatch.undo()
    build(db, night)
    statuses = rows(db, "SELECT status, error FROM runs ORDER BY started_at")
    assert [s for s, _ in statuses] == ["completed", "failed", "completed"]
    assert "dedup broke" in str(statuses[1][1])


def test_a_killed_run_leaves_the_published_database_as_it_was(
    tmp_path: Path, site: Site, slow_site: Site
) -> None:
    from prefect.settings import PREFECT_API_URL

    db, night, all_seeds = first_night(tmp_path, site)
    before = fingerprint(db)
    documents = rows(db, "SELECT doc_id FROM documents ORDER BY ALL")
    # The second night cites more pages, and last a page that does not answer.
    for seed in all_seeds.iterdir():
        (night / seed.name).write_bytes(seed.read_bytes())
    slow_seed = tmp_path / "slow.txt"
    slow_seed.write_text(f"Late news: {slow_site.url('/gate/late-news')}\n")
    log = (tmp_path / "run.log").open("w")
    run = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run", "--seeds", str(night), str(slow_seed),
         "--db", str(db), "--batch-size", "2", "--per-host-delay", "0", "--max-attempts", "1"],
        env={**os.environ, "RECITE_ALLOW_PRIVATE_ADDRESSES": "1", "RECITE_ALLOWED_PORTS": "",
             "PREFECT_API_URL": str(PREFECT_API_URL.value())},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not slow_site.requested.wait(0.2):
            assert run.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the run never reached the slow page"
        # The run has written its working file (the earlier batches are committed) ...
        assert working_path(db).with_name(working_path(db).name + ".wal").stat().st_size > 0
        assert fingerprint(db) == before  # ... and not the published one.
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the run and any process it started
        run.wait()
        log.close()
    assert run.returncode == -signal.SIGKILL

    assert fingerprint(db) == before
    assert rows(db, "SELECT status FROM runs") == [("completed",)]
    assert rows(db, "SELECT doc_id FROM documents ORDER BY ALL") == documents

    slow_site.gate.set()  # the page answers at once now
    summary = build(db, night)
    assert [s for (s,) in rows(db, "SELECT status FROM runs ORDER BY started_at")] == [
        "completed", "interrupted", "completed"]
    assert summary.total("documents") > len(documents)
    # The killed run's committed batches count, and the next run did not fetch them again.
    assert rows(db, "SELECT count(*) FROM run_summary WHERE status = 'interrupted' "
                    "AND seconds IS NULL AND urls_fetched > 0") == [(1,)]
    assert summary.count("fetch", "done_by_interrupted_run") > 0
