"""The `recite` command as a user runs it: a real subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.site import Site


def recite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_help_lists_every_setting_with_its_environment_variable() -> None:
    from flows.settings import IngestParameters

    out = recite("run", "--help")
    assert out.returncode == 0, out.stderr
    flat = " ".join(out.stdout.split())
    for name in IngestParameters.model_fields:
        assert "--" + name.replace("_", "-") in flat
        assert f"RECITE_{name.upper()}" in flat


def test_unwritable_db_location_fails_fast_with_a_message(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = recite("run", "--seeds", str(tmp_path), "--db", str(blocker / "sub" / "x.duckdb"))
    assert out.returncode == 2
    assert "cannot write the database" in out.stderr


def test_invalid_setting_is_refused(tmp_path: Path) -> None:
    out = recite("run", "--dedup-threshold", "5", "--db", str(tmp_path / "x.duckdb"))
    assert out.returncode == 2
    assert "dedup_threshold" in out.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_run_against_the_local_site(tmp_path: Path, site: Site) -> None:
    from prefect.settings import PREFECT_API_URL

    a, b = tmp_path / "a.txt", tmp_path / "b.md"
    a.write_text(f"see {site.url('/news/geneva-talks')}\n")
    b.write_text(f"[x]({site.url('/news/borrell')})\n")
    db = tmp_path / "out" / "recite.duckdb"
    out = recite(
        "run", "--seeds", str(a), str(b), "--db", str(db), "--per-host-delay", "0",
        env={
            "RECITE_ALLOW_PRIVATE_ADDRESSES": "1",
            "RECITE_ALLOWED_PORTS": "",
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        },
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "fetch" in out.stdout and "ok" in out.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM documents").fetchone() == (4,)
