"""`recite serve`: serve the `ingest` flow on a nightly schedule, in one long-running process.

Deployments served (all through `prefect.serve`, no work pool needed):

    ingest/nightly           cron `RECITE_SCHEDULE_CRON` (default `0 2 * * *`) in time zone
                             `RECITE_SCHEDULE_TIMEZONE` (default `UTC`)
    ingest/adhoc             no schedule: runs started from the UI or the CLI
    reextract/adhoc          no schedule: extract the raw archive again after an upgrade
    prefect-cleanup/daily    deletes recite's flow runs older than
                             `RECITE_PREFECT_RETENTION_DAYS` (default 30; 0: not served)

The default parameters of both `ingest` deployments are the `RECITE_*` environment of
this process (`flows.settings.Settings`), with relative `seeds` and `db` paths made
absolute against the current directory, so a nightly run reads `RECITE_SEEDS` and writes
`RECITE_DB`. Both enforce the parameter schema (an invalid value is refused before a
run is created) and allow one run at a time each (further runs wait in
`AwaitingConcurrencySlot`); across deployments, the flow itself holds the database's
writer lock `<db>.lock` (flows/concurrency.py), so only one run writes at a time.

With `--alert-webhook` (RECITE_ALERT_WEBHOOK) it installs Prefect automations that POST
an alert when a nightly run fails, crashes, times out, or none completed within
`--alert-window-hours` (deployments/alerts.py); without one it removes them. A crashed or
timed-out run starts again up to `--resume-attempts` times (flows/resume.py).

On shutdown (Ctrl-C, SIGTERM) `prefect.serve` pauses the served deployments, so that no
runs pile up while nobody executes them; every start registers them again with
`paused=False`, which re-activates the nightly schedule.
"""

# No `from __future__ import annotations`: see flows/ingest.py (PrefectHQ/prefect#19447).
import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.settings import AlertSettings, IngestParameters, Settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

NIGHTLY = "nightly"
ADHOC = "adhoc"
CLEANUP = "daily"


class ServeSettings(BaseSettings):
    """The schedule of `recite serve`, read from `RECITE_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="RECITE_", frozen=True, extra="ignore")

    schedule_cron: str = Field(
        "0 2 * * *", description="Cron expression of the nightly run (minute hour day month weekday)."
    )
    schedule_timezone: str = Field(
        "UTC", description="IANA time zone of the cron expression, e.g. Europe/Berlin."
    )
    prefect_retention_days: int = Field(
        30, ge=0, le=3650,
        description="Delete recite's Prefect flow runs older than this many days, daily "
        "(0: keep them all).",
    )
    cleanup_cron: str = Field("30 1 * * *", description="Cron expression of the daily cleanup.")

    @field_validator("schedule_cron", "cleanup_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from prefect.client.schemas.schedules import CronSchedule

        CronSchedule(cron=value)  # raises ValueError on a bad expression
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        from prefect.client.schemas.schedules import CronSchedule

        CronSchedule(cron="0 0 * * *", timezone=value)
        return value


def default_parameters(params: IngestParameters) -> dict[str, Any]:
    """The deployments' default parameters: `params` with absolute seed and db paths."""
    values = params.model_dump(mode="json")
    values["seeds"] = [str(Path(s).expanduser().absolute()) for s in params.seeds]
    values["db"] = str(Path(params.db).expanduser().absolute())
    if params.report_dir:
        values["report_dir"] = str(Path(params.report_dir).expanduser().absolute())
    return {"params": values}


# What a re-extraction shares with the nightly run; its other fields keep their own
# defaults (dedup settings: the latest run's).
REEXTRACT_SHARED = ("db", "extract_workers", "db_memory_limit", "report_dir")


def reextract_parameters(params: IngestParameters) -> dict[str, Any]:
    """The `reextract` deployment's defaults: the same database and resources as ingest's."""
    ingest = default_parameters(params)["params"]
    return {"params": {name: ingest[name] for name in REEXTRACT_SHARED}}


def build_deployments(serve: ServeSettings, params: IngestParameters) -> list["RunnerDeployment"]:
    """The deployments `recite serve` serves: nightly, adhoc, reextract and (unless disabled) cleanup."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.ingest import ingest
    from flows.maintenance import prefect_cleanup
    from flows.reextract import reextract

    common: dict[str, Any] = dict(
        parameters=default_parameters(params),
        enforce_parameter_schema=True,
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
        ),
        paused=False,  # re-activates a schedule that an earlier shutdown paused
        tags=["recite"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    deployments: list[object] = [
        ingest.to_deployment(
            NIGHTLY,
            schedules=[Cron(serve.schedule_cron, timezone=serve.schedule_timezone)],
            description=f"The nightly ingest run: `{serve.schedule_cron}` "
            f"({serve.schedule_timezone}). Defaults come from the RECITE_* environment "
            "of `recite serve`.",
            **common,
        ),
        ingest.to_deployment(
            ADHOC,
            description="Start an ingest run by hand: Run > Custom run shows every "
            "parameter with its help text and bounds.",
            **common,
        ),
        reextract.to_deployment(
            ADHOC,
            description="Extract every archived response again (after a trafilatura or recite "
            "upgrade), without fetching; dedup and publish. Waits for a running ingest run.",
            **{**common, "parameters": reextract_parameters(params)},
        ),
    ]
    if serve.prefect_retention_days:
        deployments.append(
            prefect_cleanup.to_deployment(
                CLEANUP,
                schedules=[Cron(serve.cleanup_cron, timezone=serve.schedule_timezone)],
                parameters={"older_than_days": serve.prefect_retention_days},
                description="Deletes recite's flow runs older than the retention period.",
                paused=False,
                tags=["recite"],
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return [_built(d) for d in deployments]


def _built(deployment: object) -> "RunnerDeployment":
    """`to_deployment` is typed as maybe-a-coroutine; called synchronously it never is."""
    from prefect.deployments.runner import RunnerDeployment

    assert isinstance(deployment, RunnerDeployment), deployment
    return deployment


def serve(
    serve_settings: ServeSettings, params: IngestParameters, alerts: AlertSettings | None = None
) -> None:
    """Install the alerts, register the deployments and execute their runs until interrupted."""
    from prefect import serve as prefect_serve

    from deployments.alerts import install_alerts

    db = default_parameters(params)["params"]["db"]
    installed = asyncio.run(install_alerts(alerts or AlertSettings(), db))
    typer.echo(f"alerts: {installed} automations" if installed else "alerts: off (no webhook)")
    prefect_serve(*build_deployments(serve_settings, params), pause_on_shutdown=True)


# `recite serve` and `recite alerts` (cli/ops.py) take the same option.
AlertWindowHours = Annotated[
    float | None,
    typer.Option("--alert-window-hours", help="Alert when no nightly run completed this "
                 "many hours after the last that did. Env RECITE_ALERT_WINDOW_HOURS; "
                 "default 26.", show_default=False),
]


def serve_command(
    cron: Annotated[
        str | None,
        typer.Option("--cron", help="Cron expression of the nightly run. Env RECITE_SCHEDULE_CRON; "
                     "default '0 2 * * *'.", show_default=False),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="IANA time zone of --cron. Env RECITE_SCHEDULE_TIMEZONE; "
                     "default UTC.", show_default=False),
    ] = None,
    report_dir: Annotated[
        str | None,
        typer.Option("--report-dir", metavar="DIR", help="Folder of the HTML report, refreshed "
                     "now and after every run (see `recite report`). Env RECITE_REPORT_DIR; "
                     "default: no report.", show_default=False),
    ] = None,
    retention_days: Annotated[
        int | None,
        typer.Option("--retention-days", help="Delete recite's Prefect flow runs older than this, "
                     "daily; 0 keeps them. Env RECITE_PREFECT_RETENTION_DAYS; default 30.",
                     show_default=False),
    ] = None,
    alert_webhook: Annotated[
        str | None,
        typer.Option("--alert-webhook", help="URL that gets a JSON POST when a nightly run "
                     "fails, crashes, times out, or none completed in --alert-window-hours "
                     "(README: Alerts). Env RECITE_ALERT_WEBHOOK; default: no alerts.",
                     show_default=False),
    ] = None,
    alert_window_hours: AlertWindowHours = None,
    resume_attempts: Annotated[
        int | None,
        typer.Option("--resume-attempts", help="Start a crashed or timed-out run again, up to "
                     "this many times in a row; each resumes from the working file. Env "
                     "RECITE_RESUME_ATTEMPTS; default 2.", show_default=False),
    ] = None,
) -> None:
    """Serve the ingest flow: deployment ingest/nightly on a schedule and ingest/adhoc.

    Runs until stopped (Ctrl-C). Run parameters default to the RECITE_* environment
    (see `recite run --help`). Set PREFECT_API_URL to use a `prefect server start`.
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    overrides: dict[str, Any] = {
        "schedule_cron": cron, "schedule_timezone": timezone,
        "prefect_retention_days": retention_days,
    }
    try:
        serve_settings = ServeSettings(**{k: v for k, v in overrides.items() if v is not None})
        params = Settings().parameters(resume_attempts=resume_attempts, report_dir=report_dir)
        alerts = AlertSettings.given(
            alert_webhook=alert_webhook, alert_window_hours=alert_window_hours
        )
    except ValidationError as exc:
        typer.echo(f"invalid settings:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    _first_report(params)
    serve(serve_settings, params, alerts)


def _first_report(params: IngestParameters) -> None:
    """Render the report of the database as it is, so it is there before the first run."""
    if not params.report_dir or not Path(params.db).exists():
        return
    import logging

    from flows.site_report import refresh_report

    logging.basicConfig()
    for warning in refresh_report(params.db, params.report_dir, logging.getLogger("recite.serve")):
        typer.echo(f"warning: {warning}", err=True)


if __name__ == "__main__":
    typer.run(serve_command)
