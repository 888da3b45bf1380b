"""cli/temporary_server.py: the temporary Prefect server `recite run` starts before importing Prefect."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_HOME,
    PREFECT_SERVER_API_PORT,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    PREFECT_UI_URL,
    temporary_settings,
)

from cli import temporary_server
from cli.prefect_server import EPHEMERAL_STARTUP_SECONDS, run_settings
from cli.temporary_server import TemporaryServer, _Started, _wanted
from tests.cli.test_prefect_server import health_port  # noqa: F401  (a fixture)
from tests.site import Site


@pytest.fixture
def no_api_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment with no PREFECT_API_URL and an empty PREFECT_HOME."""
    for name in ("PREFECT_API_URL", "PREFECT_SERVER_EPHEMERAL_ENABLED",
                 "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE",
                 "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process standing in for a server process (it only has to be running)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    yield process
    process.kill()
    process.wait()
    _Started.server = None


def test_only_a_run_that_prefect_would_give_a_temporary_server_starts_one(
    no_api_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _wanted(["run", "--seeds", "x"])
    assert not _wanted([])
    assert not _wanted(["sql", "SELECT 1"])
    assert not _wanted(["run", "--help"])
    monkeypatch.setenv("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "false")
    assert not _wanted(["run"])
    monkeypatch.delenv("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE")
    (no_api_env / "server.pid").write_text("1")  # `prefect server start --background`'s
    assert not _wanted(["run"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (no_api_env / "server.pid").write_text(str(gone.pid))  # a server that is gone
    assert _wanted(["run"])
    (no_api_env / "server.pid").unlink()
    profiles = no_api_env / "profiles.toml"
    profiles.write_text('active = "local"\n[profiles.local]\nPREFECT_API_URL = "http://h:1/api"\n'
                        '[profiles.other]\nPREFECT_LOGGING_LEVEL = "INFO"\n')
    assert not _wanted(["run"])
    monkeypatch.setenv("PREFECT_PROFILE", "other")
    assert _wanted(["run"])
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    assert not _wanted(["run"])


def test_the_run_uses_the_early_server_once_it_answers(
    no_api_env: Path, sleeper: subprocess.Popen[bytes], health_port: int  # noqa: F811
) -> None:
    url = f"http://127.0.0.1:{health_port}/api"
    _Started.server = TemporaryServer(sleeper, url)
    with temporary_settings(updates={PREFECT_HOME: str(no_api_env), PREFECT_SERVER_API_PORT: 9},
                            restore_defaults={PREFECT_API_URL}):
        assert run_settings() == {PREFECT_API_URL: url, PREFECT_UI_URL: ""}
    assert sleeper.poll() is None  # still serving the run


def test_a_configured_api_url_discards_the_early_server(
    no_api_env: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    _Started.server = TemporaryServer(sleeper, "http://127.0.0.1:9/api")
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert run_settings() == {}
    assert sleeper.wait(timeout=10) is not None
    assert temporary_server.started() is None


def test_an_early_server_that_dies_leaves_the_run_to_prefects_own(
    no_api_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait()
    _Started.server = TemporaryServer(dead, "http://127.0.0.1:9/api")
    with temporary_settings(updates={PREFECT_HOME: str(no_api_env), PREFECT_SERVER_API_PORT: 9},
                            restore_defaults={PREFECT_API_URL,
                                              PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS}):
        assert run_settings() == {
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: EPHEMERAL_STARTUP_SECONDS
        }
    _Started.server = None


def test_recite_run_records_its_flow_and_tasks_on_its_temporary_server(
    tmp_path: Path, site: Site
) -> None:
    seed = tmp_path / "seeds" / "a.txt"
    seed.parent.mkdir()
    seed.write_text(f"see {site.url('/news/geneva-talks')}\n")
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "cli.entry", "run", "--seeds", str(seed.parent),
         "--db", str(tmp_path / "db" / "recite.duckdb"), "--per-host-delay", "0"],
        capture_output=True, text=True, timeout=600,
        env={**env, "PREFECT_HOME": str(home), "RECITE_ALLOW_PRIVATE_ADDRESSES": "1",
             "RECITE_ALLOWED_PORTS": "", "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "View at" not in done.stderr  # that server has no UI and is gone
    line = next(s for s in done.stderr.splitlines() if "temporary Prefect server" in s)
    url = line.split(": ", 1)[1].split()[0]
    with pytest.raises(OSError):  # it served this run only
        urllib.request.urlopen(f"{url}/health", timeout=5)
    with sqlite3.connect(home / "prefect.db") as con:  # what that server's API served
        runs = con.execute("SELECT id, state_type FROM flow_run").fetchall()
        assert [state for _, state in runs] == ["COMPLETED"]
        tasks = con.execute("SELECT name, state_type FROM task_run WHERE flow_run_id = ?",
                            (runs[0][0],)).fetchall()
    names = {name.rsplit("-", 1)[0] for name, _ in tasks}
    assert {"read-seeds", "fetch-batch", "save-batch"} <= names, names
    assert {state for _, state in tasks} == {"COMPLETED"}


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_server_does_not_outlive_a_killed_run(no_api_env: Path) -> None:
    code = ("import time; from cli.temporary_server import start_early; "
            "print(start_early(['run']).process.pid, flush=True); time.sleep(120)")
    run = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    pid = int(run.stdout.readline())
    server = Path(f"/proc/{pid}/status")
    assert server.exists()
    run.kill()  # SIGKILL: no atexit handler runs
    run.wait()
    deadline = time.monotonic() + 60
    while _alive(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive := _alive(server):
        os.kill(pid, signal.SIGKILL)  # left over by the failure this test reports
    assert not alive


def _alive(status: Path) -> bool:
    try:
        return "zombie" not in status.read_text()
    except OSError:
        return False
