"""One writer at a time: every ingest run holds the database's writer lock while it writes.

DuckDB lets one process write a file, and the working database refuses a second writer
(`storage.errors.DatabaseLocked`) — the last line of defence. This is the first: every
`ingest` run, whichever deployment (`nightly`, `adhoc`), worker or `recite run` started
it, takes an exclusive lock on `<db>.lock` (flock(2), keyed by the database path) before
it opens the working database and keeps it until the database is published. A second
run on the same database logs that it waits (and for whom), waits, then runs: nothing is
lost. Runs on different databases do not wait for each other.

Why a file lock rather than a Prefect global concurrency limit: a run that is SIGKILLed
(OOM killer, reboot, `kill -9`) releases a file lock at once, since the kernel drops it
with the process, while a concurrency-limit slot stays leased until its lease expires
(minutes); the next run would wait for a writer that no longer exists. Each deployment
also has a concurrency limit of 1, so that the UI shows extra runs of one deployment as
*AwaitingConcurrencySlot* instead of piling them up.
"""

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from prefect.exceptions import MissingContextError
from prefect.logging import get_logger, get_run_logger
from prefect.runtime import flow_run

POLL_SECONDS = 1.0
REMIND_SECONDS = 600.0


def lock_path(db: str | Path) -> Path:
    """The writer lock file of the database `db`: `<db>.lock` beside it."""
    path = Path(db).expanduser().absolute()
    return path.with_name(path.name + ".lock")


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The run's logger (its lines show on the run page), or a plain one outside runs."""
    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("recite.concurrency")


def holder(db: str | Path) -> dict[str, object] | None:
    """Who holds (or last held) the writer lock of `db`, as written by `writer_slot`."""
    try:
        return dict(json.loads(lock_path(db).read_text() or "null") or {}) or None
    except (OSError, ValueError, TypeError):
        return None


@contextlib.asynccontextmanager
async def writer_slot(db: str, poll: float = POLL_SECONDS) -> AsyncIterator[None]:
    """Hold the writer lock of `db` for the duration of the block, waiting for it if needed.

    When the lock file cannot be created (an unwritable folder), the block runs without
    it: opening the database then fails with the storage layer's own message.
    """
    path = lock_path(db)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        _logger().warning("no writer lock at %s (%s); relying on the database's own lock", path, exc)
        yield
        return
    try:
        await _acquire(fd, db, poll)
        _write_holder(fd)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


async def _acquire(fd: int, db: str, poll: float) -> None:
    """Take the lock, polling (the event loop stays free); log who is waited for."""
    started = time.monotonic()
    next_notice = started
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= next_notice:
                _logger().warning(
                    "another recite run is writing %s (%s); waiting for it to finish",
                    db, _describe(holder(db)),
                )
                next_notice = time.monotonic() + REMIND_SECONDS
            waited = True
            await asyncio.sleep(poll)
            continue
        if waited:
            _logger().info(
                "the other run finished after %.0f s; this run now writes %s",
                time.monotonic() - started, db,
            )
        return


def _write_holder(fd: int) -> None:
    """Record this run as the holder (for the message a waiting run logs)."""
    info = {
        "flow_run_id": flow_run.get_id(), "flow_run_name": flow_run.get_name(),
        "pid": os.getpid(), "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)


def _describe(info: dict[str, object] | None) -> str:
    if not info:
        return "holder unknown"
    run = info.get("flow_run_name") or info.get("flow_run_id") or "a run outside Prefect"
    return f"flow run {run}, pid {info.get('pid')} on {info.get('host')}, since {info.get('since')}"
