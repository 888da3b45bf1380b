"""`recite reextract` and `recite export-warc`: commands over the raw archive (`responses`)."""

import asyncio
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer

from cli.output import DEFAULT_DB, DbOption, console, err, print_summary
from cli.prefect_server import run_settings
from fetching.config import DEFAULT_USER_AGENT
from flows.settings import ReextractParameters
from storage.database import open_published, working_path
from storage.errors import StorageError

_REEXTRACT_DEFAULTS = ReextractParameters()


def reextract_command(
    db: DbOption = DEFAULT_DB,
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Extraction processes (0: one per core).")
    ] = _REEXTRACT_DEFAULTS.extract_workers,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Pages per re-extraction batch.")
    ] = _REEXTRACT_DEFAULTS.batch_size,
) -> None:
    """Extract every archived response again (no fetching), update what changed, dedup, publish.

    Runs the `reextract` Prefect flow in-process, like `recite run`.
    """
    if not Path(db).exists() and not working_path(Path(db)).exists():
        # Fail before Prefect starts (a temporary server costs 10-20 s).
        err.print(f"[red]recite reextract failed:[/red] no database at {db}; run `recite run` first")
        raise typer.Exit(1)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # DESIGN.md, traps
    from prefect.settings import temporary_settings

    from flows.reextract import reextract  # imports Prefect

    params = ReextractParameters(db=str(db), extract_workers=workers, batch_size=batch_size)
    try:
        with temporary_settings(updates=run_settings()):
            summary = asyncio.run(reextract(params))
    except StorageError as exc:
        err.print(f"[red]recite reextract failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    print_summary(summary)


def export_warc_command(
    out: Annotated[Path, typer.Argument(help="WARC file to write, e.g. archive.warc.gz.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write the archived responses as a WARC file (request + response record per page).

    Reads the published database, so it works while a run writes. One gzip member per record.

    Bodies are stored decoded: served Content-Encoding/-Length, Transfer-Encoding → X-Archive-Orig-*.
    """
    from fetching.client import ACCEPT, ACCEPT_ENCODING  # imports httpx: only when exporting
    from storage.warc import WarcSettings, export_warc  # imports warcio

    settings = WarcSettings(
        software=f"recite/{_version()} (warcio)",
        default_user_agent=DEFAULT_USER_AGENT,
        request_headers=(("Accept", ACCEPT), ("Accept-Encoding", ACCEPT_ENCODING)),
    )
    try:
        with open_published(Path(db)) as con:
            report = export_warc(con, out, settings)
    except (StorageError, OSError) as exc:
        err.print(f"[red]recite export-warc failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"wrote {report.path}: {report.responses} responses, {report.records} records, "
        f"{report.bytes} bytes"
    )


def _version() -> str:
    try:
        return version("recite")
    except PackageNotFoundError:
        return "dev"
