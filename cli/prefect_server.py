"""Which Prefect server `recite run` talks to, and `recite server`, which starts one.

With no PREFECT_API_URL, Prefect 3.9 starts a temporary server for every run; its only
settings are `server.ephemeral.enabled` and `startup_timeout_seconds`. `recite run`
starts that same server itself, before importing Prefect (cli/temporary_server.py), so
it comes up while the run imports. A server started once with `prefect server start
--background` (which `recite server` runs) keeps answering, so later runs skip it:
`recite run` uses the one Prefect's own PID file names in PREFECT_HOME when it answers.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import typer

from cli import temporary_server
from cli.output import err

# Prefect's 20 s default fails a first run on a loaded machine (issue 20).
EPHEMERAL_STARTUP_SECONDS = 120
_TIMEOUT_NAME = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


def run_settings() -> dict[Any, Any]:
    """Prefect settings for this run, to apply with `prefect.settings.temporary_settings`.

    The user's PREFECT_API_URL wins; else a background server of this PREFECT_HOME that
    answers; else the temporary server `recite run` started before importing Prefect
    (cli/temporary_server.py); else Prefect's own temporary server. Either is given 120 s
    to start unless the user set its startup timeout (environment or profile).
    """
    settings, uses_early = _chosen_settings()
    if not uses_early:
        temporary_server.discard()  # the early server, if one was started, is not needed
    return settings


def _chosen_settings() -> tuple[dict[Any, Any], bool]:
    """The run's Prefect settings, and whether they name the early temporary server."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        PREFECT_UI_URL,
        get_current_settings,
    )
    from prefect.settings.profiles import load_current_profile

    settings = get_current_settings()
    if settings.api.url:
        return {}, False
    if url := background_server():
        err.print(f"recite server: using {url}")
        return {PREFECT_API_URL: url}, False
    if not settings.server.ephemeral.enabled:
        return {}, False  # Prefect then says that no API URL is set
    profile = {setting.name for setting in load_current_profile().settings}
    user_timeout = _TIMEOUT_NAME in os.environ or _TIMEOUT_NAME in profile
    timeout = settings.server.ephemeral.startup_timeout_seconds
    if (early := temporary_server.started()) is not None:
        if early.wait(timeout if user_timeout else EPHEMERAL_STARTUP_SECONDS):
            err.print(f"temporary Prefect server for this run: {early.url} "
                      "(`recite server` keeps one running for later runs)")
            # It has no UI and stops with the run: no "View at" links (as Prefect's own).
            no_ui = {} if settings.ui_url is not None else {PREFECT_UI_URL: ""}
            return {PREFECT_API_URL: early.url, **no_ui}, True
        err.print("[yellow]the temporary Prefect server did not answer; Prefect starts its own")
    if user_timeout:
        return {}, False
    return {PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: EPHEMERAL_STARTUP_SECONDS}, False


def background_server() -> str | None:
    """The API URL of the server `prefect server start --background` left running, if it answers."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if not (Path(settings.home) / temporary_server.PID_FILE).exists():
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
