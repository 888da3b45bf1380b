"""A full disk ends the run with a clear message and leaves the published database intact."""

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.site import Site

pytestmark = pytest.mark.usefixtures("prefect_harness")


def run(seeds: Path, db: Path, file_size_limit: int | None) -> subprocess.CompletedProcess[str]:
    from prefect.settings import PREFECT_API_URL

    def limit() -> None:
        if file_size_limit is not None:
            # Writes past the limit fail with EFBIG, as on a full disk; ignore SIGXFSZ so
            # the process sees the error instead of being killed by it.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "RECITE_ALLOW_PRIVATE_ADDRESSES": "1", "RECITE_ALLOWED_PORTS": "",
           "RECITE_PER_HOST_DELAY": "0"}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "run", "--seeds", str(seeds), "--db", str(db)],
        capture_output=True, text=True, timeout=300, env=env, preexec_fn=limit,
    )


def test_full_disk_leaves_the_published_database_intact(tmp_path: Path, site: Site) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text(site.url("/news/geneva-talks") + "\n")
    db = tmp_path / "db" / "recite.duckdb"
    first = run(seeds, db, None)
    assert first.returncode == 0, first.stderr[-2000:]
    published = db.read_bytes()

    (seeds / "b.txt").write_text("\n".join(site.url(f"/gen/{n}") for n in range(40)) + "\n")
    # Published by rename: the second run copies the file (nothing published before it to
    # catch up), under the limit.
    assert not (db.parent / "recite.duckdb.work").exists()
    full = run(seeds, db, file_size_limit=256 * 1024)
    assert full.returncode == 1, full.stderr[-3000:]
    assert "cannot write the database" in full.stderr
    assert db.read_bytes() == published
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM documents WHERE kind = 'page'").fetchone() == (1,)
