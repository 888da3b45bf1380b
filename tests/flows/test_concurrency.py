"""The writer lock: one run writes a database at a time; a killed writer never blocks."""

import asyncio
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.concurrency import holder, lock_path, writer_slot
from storage.database import WorkingDatabase
from storage.errors import DatabaseUnavailable

HOLD = (
    "import fcntl, os, sys, time\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "print('locked', flush=True)\n"
    "time.sleep(120)\n"
)


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    db = str(tmp_path / "x.duckdb")
    order: list[str] = []
    asyncio.run(_one_after_another((db, "first"), (db, "second"), order))
    assert order == ["first starts", "first ends", "second starts", "second ends"]
    assert holder(db) is not None and holder(db)["pid"] is not None  # type: ignore[index]


def test_other_databases_do_not_wait(tmp_path: Path) -> None:
    order: list[str] = []
    first, second = (str(tmp_path / "a.duckdb"), "a"), (str(tmp_path / "b.duckdb"), "b")
    asyncio.run(asyncio.wait_for(_one_after_another(first, second, order), 2))
    assert order == ["a starts", "b starts", "b ends", "a ends"]  # b ran while a was held


def test_the_lock_of_a_killed_writer_is_free_at_once(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    lock_path(db).touch()
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_path(db))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "locked"

        async def blocked_then_free() -> float:
            waiting = asyncio.create_task(_enter(str(db)))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # the other process writes
            other.kill()  # SIGKILL: no cleanup runs in it
            killed = time.monotonic()
            await asyncio.wait_for(waiting, 5)
            return time.monotonic() - killed

        assert asyncio.run(blocked_then_free()) < 2
    finally:
        other.kill()
        other.wait()


def test_without_a_writable_folder_the_run_goes_on_to_the_database_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    db = blocker / "sub" / "x.duckdb"

    async def run() -> None:
        async with writer_slot(str(db), poll=0.02):
            WorkingDatabase(db).open()

    with caplog.at_level(logging.WARNING), pytest.raises(DatabaseUnavailable, match="cannot create"):
        asyncio.run(asyncio.wait_for(run(), 2))
    assert any("no writer lock at" in r.getMessage() for r in caplog.records)


async def _one_after_another(
    first: tuple[str, str], second: tuple[str, str], order: list[str]
) -> None:
    """`first` (db, name) takes its writer slot for 0.4 s; 0.1 s in, `second` asks for its own."""

    async def run(db: str, name: str, hold: float) -> None:
        async with writer_slot(db, poll=0.02):
            order.append(f"{name} starts")
            await asyncio.sleep(hold)
            order.append(f"{name} ends")

    task = asyncio.create_task(run(*first, 0.4))
    await asyncio.sleep(0.1)
    await asyncio.gather(task, run(*second, 0))


async def _enter(db: str) -> None:
    async with writer_slot(db, poll=0.02):
        pass
