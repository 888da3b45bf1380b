"""Which Prefect server `recite run` talks to, and `recite server`, which starts one.

With no PREFECT_API_URL, Prefect 3.9 starts a temporary server for every run (10-35 s on
a busy machine; it has no faster ephemeral mode, only `server.ephemeral.enabled` and
`startup_timeout_seconds`). A server started once with `prefect server start --background`
(which `recite server` runs) keeps answering, so later runs start in seconds: `recite run`
uses the one Prefect's own PID file names in PREFECT_HOME when it answers.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import typer

from cli.output import err

# Prefect's 20 s default fails a first run on a loaded machine (issue 20).
EPHEMERAL_STARTUP_SECONDS = 120
_TIMEOUT_NAME = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
_PID_FILE = "server.pid"  # prefect/cli/_server_utils.py SERVER_PID_FILE_NAME


def run_settings() -> dict[Any, Any]:
    """Prefect settings for this run, to apply with `prefect.settings.temporary_settings`.

    The user's PREFECT_API_URL wins; else a background server of this PREFECT_HOME that
    answers; else Prefect's temporary server, given 120 s to start unless the user set
    its startup timeout (environment or profile).
    """
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        get_current_settings,
    )
    from prefect.settings.profiles import load_current_profile

    if get_current_settings().api.url:
        return {}
    if url := background_server():
        return {PREFECT_API_URL: url}
    profile = {setting.name for setting in load_current_profile().settings}
    if _TIMEOUT_NAME in os.environ or _TIMEOUT_NAME in profile:
        return {}
    return {PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: EPHEMERAL_STARTUP_SECONDS}


def background_server() -> str | None:
    """The API URL of the server `prefect server start --background` left running, if it answers."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if not (Path(settings.home) / _PID_FILE).exists():
        return None
    host = settings.server.api.host
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = f"http://{host}:{settings.server.api.port}/api"
    return url if _answers(url, 2.0) else None


def _answers(url: str, timeout: float) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def server_command(
    wait: int = typer.Option(EPHEMERAL_STARTUP_SECONDS, help="Seconds to wait for it to answer."),
) -> None:
    """Start Prefect's local server in the background, once; later `recite run`s use it.

    It is `prefect server start --background` (UI at http://127.0.0.1:4200, state in
    PREFECT_HOME); `recite run` then starts in seconds instead of starting a temporary
    server each time. Stop it with `prefect server stop`.
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if url := background_server():
        print(f"A Prefect server is already running: {url} (stop it with `prefect server stop`)")
        return
    done = subprocess.run(
        [sys.executable, "-m", "prefect", "server", "start", "--background"],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        err.print(f"[red]prefect server start failed:[/red]\n{done.stdout}{done.stderr}")
        raise typer.Exit(1)
    deadline = time.monotonic() + wait
    while (url := background_server()) is None:
        if time.monotonic() > deadline:
            err.print(f"[red]the Prefect server did not answer within {wait} s[/red]")
            raise typer.Exit(1)
        time.sleep(0.5)
    print(f"Prefect server running in the background: {url}; UI at {url.removesuffix('/api')}")
    print("`recite run` uses it from now on; stop it with `prefect server stop`.")
