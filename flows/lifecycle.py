"""The life of a run that writes the database, the same for every flow that writes (issue 17).

In order: take the writer lock (flows/concurrency.py; a second run waits), open the
working database with the memory limit, mark runs a killed process left `running` as
`interrupted` (and find where to resume), record this run as started. The flow does its
work and ends the run (`WritingRun.complete` or `fail`), then publishes; on the way out the database is
closed and the lock released, whatever happened.
"""

import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prefect import get_run_logger
from prefect.runtime import flow_run

from flows.concurrency import writer_slot
from pipeline.isolation import Failures
from pipeline.steps import now
from pipeline.summary import Tally
from storage.database import WorkingDatabase
from storage.outcomes import RunStatus, Stage
from storage.store import Store


@dataclass(frozen=True, slots=True)
class WritingRun:
    """A started run: its id, working database, store, and where a killed run stopped."""

    run_id: str
    wdb: WorkingDatabase
    store: Store
    resume_since: datetime | None

    def complete(self, tally: Tally, failures: Failures) -> RunStatus:
        """Record the items a dedup step set aside, end the run; the status it ended with."""
        status = RunStatus.COMPLETED
        if failures:
            self.store.save_failures(self.run_id, failures.items, now())
            for failure in failures.items:
                tally.bump(Stage.ERRORS, failure.stage)
            status = RunStatus.COMPLETED_WITH_ERRORS
        self.store.finish_run(self.run_id, status, tally.counts, now())
        return status

    def fail(self, tally: Tally, status: RunStatus, error: str) -> None:
        """End the run as `status` (failed, timed out); not being able to say so must
        not hide the error that ended it."""
        with contextlib.suppress(Exception):
            self.store.finish_run(self.run_id, status, tally.counts, now(), error=error[:2000])


@asynccontextmanager
async def writing_run(
    db: str, memory_limit: str | None, parameters: Mapping[str, object]
) -> AsyncIterator[WritingRun]:
    """Lock, open, mark interrupted runs, start the run; close and unlock on the way out."""
    async with writer_slot(db):  # one writer at a time
        with WorkingDatabase(Path(db), memory_limit) as wdb:
            log_preparation(wdb)
            store = Store(wdb.con)
            run_id = run_id_now()
            resume_since = store.interrupt_stale_runs(run_id, now())
            store.start_run(run_id, parameters, now())
            yield WritingRun(run_id, wdb, store, resume_since)


def log_preparation(wdb: WorkingDatabase) -> None:
    """Say how the working file was made: resumed, new, caught up or copied (and why)."""
    how, logger = wdb.preparation, get_run_logger()
    if how.how == "caught_up":
        logger.info("working file: the file published before, caught up in %.2f s", how.seconds)
    elif how.how == "copied":
        logger.info("working file: copied from %s in %.2f s (not caught up: %s)",
                    wdb.db_path.name, how.seconds, how.reason)
    else:
        logger.info("working file: %s", how.how)


def run_id_now() -> str:
    """The Prefect flow run's id when run by Prefect, else a new UUID."""
    run = flow_run.get_id()
    return str(run) if run else str(uuid.uuid4())
