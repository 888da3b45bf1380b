"""The `recite` commands that operate Prefect: `serve` and `prefect-cleanup`.

Registered on the `recite` app by cli/main.py; Prefect is imported only when one runs.
"""

import asyncio
import os
from typing import Annotated

import typer


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


def register_ops_commands(app: typer.Typer) -> None:
    """Add `recite serve` and `recite prefect-cleanup` to the `recite` app."""
    from deployments.serve import serve_command

    app.command("serve")(serve_command)
    app.command("prefect-cleanup")(prefect_cleanup_command)
