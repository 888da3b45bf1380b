"""Real processes for the deployment tests: `prefect server start` and `recite serve`.

Each process starts in its own session, so that stopping it by its PID (its process
group) also stops what it started (flow-run subprocesses, extraction workers).
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], env: dict[str, str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start `args` in a new session with its output in `log`."""
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            args, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        handle.close()


def stop(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM the process group of `process` (by its PID), then SIGKILL it if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    # Whatever the group still holds (a flow run's workers) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


class Api:
    """A tiny JSON client of a Prefect server's REST API (what a UI or curl would call)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        # Prefect's server answers 503 for errors a client can retry (a busy SQLite
        # database, prefect/server/api/server.py), and Prefect's own client retries them.
        for _ in range(5):
            status, answer = self._call_once(method, path, body)
            if status != 503:
                break
            time.sleep(1)
        return status, answer

    def _call_once(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode(errors="replace")

    def get(self, path: str) -> Any:
        status, body = self.call("GET", path)
        assert status == 200, (path, status, body)
        return body

    def post(self, path: str, body: Any) -> Any:
        status, body = self.call("POST", path, body)
        assert status in (200, 201), (path, status, body)
        return body

    def healthy(self) -> bool:
        try:
            return self.call("GET", "/health")[0] == 200
        except OSError:
            return False

    def deployment(self, flow: str, name: str) -> Any:
        return self.get(f"/deployments/name/{flow}/{name}")

    def flow_runs(self, deployment_id: str, state_types: list[str] | None = None) -> list[Any]:
        body: dict[str, Any] = {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 200}
        if state_types:
            body["flow_runs"] = {"state": {"type": {"any_": state_types}}}
        result: list[Any] = self.post("/flow_runs/filter", body)
        return result

    def flow_run(self, run_id: str) -> Any:
        return self.get(f"/flow_runs/{run_id}")

    def artifacts(self, run_id: str) -> dict[str, Any]:
        found = self.post("/artifacts/filter", {"flow_runs": {"id": {"any_": [run_id]}}})
        return {a["key"]: a for a in found}

    def logs(self, run_id: str) -> list[str]:
        found = self.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200})
        return [entry["message"] for entry in found]

    def wait_state(self, run_id: str, state: str, timeout: float) -> Any:
        def reached() -> Any:
            run = self.flow_run(run_id)
            if run["state_type"] in ("FAILED", "CRASHED", "CANCELLED") and state != run["state_type"]:
                raise AssertionError(f"flow run {run_id} ended {run['state_name']}: {run['state']}")
            return run if run["state_type"] == state else None

        return wait_for(reached, timeout, f"flow run {run_id} to reach {state}")


def prefect_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a Prefect process: its own PREFECT_HOME, no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RECITE_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_TO_API_BATCH_INTERVAL="0.3",
        COLUMNS="200",
        # No test asks the Internet Archive for dead links (the default TimeGate).
        RECITE_MEMENTO_TIMEGATE="",
    )
    env.update(extra)
    return env


def server_command(port: int, ui: bool = False) -> list[str]:
    """`prefect server start` on 127.0.0.1:`port`."""
    return [
        sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
        "--port", str(port), "--ui" if ui else "--no-ui",
    ]


def serve_command(*flags: str) -> list[str]:
    """`recite serve` as a user runs it."""
    return [sys.executable, "-m", "cli.main", "serve", *flags]
