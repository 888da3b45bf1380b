"""--timeout-hours: a run past its time stops, publishes nothing, frees the lock, is resumed."""

import asyncio
import fcntl
import os
from pathlib import Path

import pytest

from flows.concurrency import lock_path
from flows.ingest import ingest
from storage.errors import RunTimedOut
from tests.flows.test_ingest import params, query
from tests.site import Site

pytestmark = pytest.mark.usefixtures("prefect_harness")

PAGES = 16


def test_a_run_past_its_timeout_stops_and_the_next_resumes(tmp_path: Path, site: Site) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "many.txt").write_text(
        "\n".join(site.url(f"/gen/timeout-{n}") for n in range(PAGES)) + "\n")
    # One host, one request at a time, 0.6 s apart: about 10 s of fetching in batches of
    # 2, against a timeout of 5 s (of which start-up takes 1-3 s).
    slow = params(tmp_path, [seeds], batch_size=2, timeout_hours=5 / 3600).model_copy(
        update={"per_host_delay": 0.6, "per_host_concurrency": 1})
    with pytest.raises(RunTimedOut, match="timed out after"):
        asyncio.run(ingest(slow))
    db = slow.db
    assert not Path(db).exists()  # nothing published
    (status, error), = query(db + ".work", "SELECT status, error FROM runs")
    assert status == "timed_out" and "--timeout-hours" in error
    stored = query(db + ".work", "SELECT count(*) FROM fetches")[0][0]
    assert stored < PAGES  # it stopped before the end (on an idle machine, after 4-6 pages)
    fd = os.open(lock_path(db), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the writer lock was released
    finally:
        os.close(fd)

    summary = asyncio.run(ingest(slow.model_copy(update={"timeout_hours": 1.0})))
    assert summary.count("fetch", "done_by_interrupted_run") == stored
    assert query(db, "SELECT count(*) FROM documents WHERE kind = 'page'") == [(PAGES,)]
    assert query(db, "SELECT status FROM runs ORDER BY started_at") == [
        ("timed_out",), ("completed",)]
    seconds = query(db, "SELECT seconds FROM run_summary ORDER BY started_at")
    assert all(s is not None for (s,) in seconds)
