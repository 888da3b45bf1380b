"""The `recite` commands that operate Prefect: `serve`, `alerts` and `prefect-cleanup`.

Registered on the `recite` app by cli/main.py; Prefect is imported only when one runs.
"""

import asyncio
import os
from typing import Annotated

import typer

from deployments.serve import AlertWindowHours


def prefect_cleanup_command(
    older_than_days: Annotated[
        int,
        typer.Option("--older-than-days", min=1, help="Delete flow runs expected to start "
                     "more than this many days ago."),
    ] = 30,
) -> None:
    """Delete recite's finished Prefect flow runs older than N days, with their artifacts.

    Their task runs and logs go with them. Uses PREFECT_API_URL when set, else the local
    Prefect database in PREFECT_HOME.
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.maintenance import delete_old_flow_runs

    deleted = asyncio.run(delete_old_flow_runs(older_than_days))
    typer.echo(f"deleted {deleted} flow runs older than {older_than_days} days")


def alerts_command(
    webhook: Annotated[
        str | None,
        typer.Option("--alert-webhook", help="URL that gets the JSON POSTs. Env "
                     "RECITE_ALERT_WEBHOOK; empty: remove the alerts.", show_default=False),
    ] = None,
    window_hours: AlertWindowHours = None,
) -> None:
    """Install the alerts of ingest/nightly on the Prefect server (PREFECT_API_URL).

    `recite serve` does this itself at every start; run it once when the deployments come
    from deployments/prefect.yaml. The database named in alerts is RECITE_DB's.
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from pydantic import ValidationError

    from deployments.alerts import install_alerts
    from deployments.serve import default_parameters
    from flows.settings import AlertSettings, Settings

    try:
        settings = AlertSettings.given(alert_webhook=webhook, alert_window_hours=window_hours)
        db = default_parameters(Settings().parameters())["params"]["db"]
    except ValidationError as exc:
        typer.echo(f"invalid settings:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    installed = asyncio.run(install_alerts(settings, db))
    typer.echo(f"{installed} alert automations installed" if installed else "alerts removed")


def register_ops_commands(app: typer.Typer) -> None:
    """Add `recite serve`, `recite alerts` and `recite prefect-cleanup` to the `recite` app."""
    from deployments.serve import serve_command

    app.command("serve")(serve_command)
    app.command("alerts")(alerts_command)
    app.command("prefect-cleanup")(prefect_cleanup_command)
