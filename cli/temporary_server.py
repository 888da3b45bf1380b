"""The temporary Prefect server of one `recite run`, started before Prefect is imported.

With no PREFECT_API_URL, Prefect 3.9 starts a temporary server only when the flow first
asks for a client, after the run's 2-3 s of imports (prefect, recite's flows), and it
imports its whole server package (another 2-3 s of CPU) just to start it. Its server is
a subprocess (`uvicorn prefect.server.api.server:create_app`) that answers /api/health
only after importing the same package again, migrating the database and starting its
services. recite starts that same command first thing (stdlib only here, so nothing
heavy is imported yet), so it comes up on the second core while `recite run` imports
(issue 20). The run then uses it through PREFECT_API_URL, as it would a running server.

Only this server, which lives for one run, gets what a single run has no use for turned
off, unless the environment sets it: automations' triggers and actions (their start reads
the automations and builds an in-process API client: about 0.6 s of CPU) and block
type registration (below).
"""

import atexit
import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# As prefect/server/api/server.py's SubprocessASGIServer starts its temporary server.
_PREFECT_EPHEMERAL_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
# Defaults for this server only; the user's environment wins.
_RUN_ONLY_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    # Block types are registered by the next long-lived server of this PREFECT_HOME; even
    # memoized, checking the memo imports every installed collection (prefect-dask pulls
    # in distributed: about 0.8 s of CPU per start).
    "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
    "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
}
PID_FILE = "server.pid"  # prefect/cli/_server_utils.py SERVER_PID_FILE_NAME
_STOP_SECONDS = 5  # as Prefect's SubprocessASGIServer.stop


@dataclass(frozen=True, slots=True)
class TemporaryServer:
    """A Prefect server subprocess serving one run at `url`."""

    process: subprocess.Popen[bytes]
    url: str

    def wait(self, timeout: float) -> bool:
        """Wait until it answers /api/health; False when it exits or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            if _healthy(self.url):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop it (SIGTERM: uvicorn shuts the services down), then kill it if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Started:
    """The server started for this process, if any (one run per process)."""

    server: TemporaryServer | None = None


def started() -> TemporaryServer | None:
    """The temporary server `start_early` started in this process, if it is still running."""
    server = _Started.server
    return server if server is not None and server.process.poll() is None else None


def discard() -> None:
    """Stop the temporary server when the run uses another one."""
    if _Started.server is not None:
        _Started.server.stop()
        _Started.server = None


def start_early(args: list[str]) -> TemporaryServer | None:
    """Start a temporary server for `recite run` when Prefect would start one.

    Skipped for other commands, `--help`, a PREFECT_API_URL in the environment or in the
    active profile, a live server `prefect server start --background` left in PREFECT_HOME, or
    ephemeral mode turned off in the environment. Other settings sources (prefect.toml,
    .env) are read once Prefect is imported: `cli.prefect_server.run_settings` discards
    this server when they name another one or turn ephemeral mode off.
    """
    if not _wanted(args):
        return None
    app_dir = _prefect_parent()
    if app_dir is None:
        return None
    port = _free_port()
    env = {**_RUN_ONLY_DEFAULTS, **os.environ, **_PREFECT_EPHEMERAL_ENV}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", app_dir, "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"],
        env=env,
        # No threads have started yet; preexec_fn is POSIX-only.
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    server = TemporaryServer(process, f"http://127.0.0.1:{port}/api")
    _Started.server = server
    # Registered before Prefect's log and event workers register theirs: atexit runs
    # last-in first-out, so they flush to this server before it stops.
    atexit.register(server.stop)
    return server


def _wanted(args: list[str]) -> bool:
    if not args or args[0] != "run" or "--help" in args:
        return False
    if os.environ.get("PREFECT_API_URL"):
        return False
    for name in ("PREFECT_SERVER_EPHEMERAL_ENABLED", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"):
        if os.environ.get(name, "").strip().lower() in ("0", "false", "no", "off"):
            return False
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    if _background_server_alive(home / PID_FILE):
        return False
    return "PREFECT_API_URL" not in _active_profile(home)


def _background_server_alive(pid_file: Path) -> bool:
    # A PID file left by a server that is gone (a reboot, a kill) must not cost every
    # later run the slow path; whether a live one answers is checked after the imports.
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (OSError, ValueError) as exc:
        return isinstance(exc, PermissionError)  # alive, another user's
    return True


def _active_profile(home: Path) -> dict[str, object]:
    # The user's profiles file (`prefect config set`, `prefect cloud login` write it); a
    # profile that names a server skips the temporary one. Prefect's bundled profiles
    # name none.
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    name = os.environ.get("PREFECT_PROFILE") or profiles.get("active")
    profile = profiles.get("profiles", {}).get(name, {}) if isinstance(name, str) else {}
    return profile if isinstance(profile, dict) else {}


def _die_with_parent() -> None:
    # Linux: SIGTERM this server when the run's process dies, even killed (SIGKILL
    # skips atexit), so no temporary server outlives its run. prctl(PR_SET_PDEATHSIG).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def _prefect_parent() -> str | None:
    # The folder holding the `prefect` package, without importing it (Prefect passes
    # prefect.__module_path__.parent as uvicorn's --app-dir).
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))).parent)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    # No proxy: the server is on this machine (a proxy from the environment would not see it).
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False
