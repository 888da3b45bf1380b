"""The `recite` command line. `recite run --help` lists every setting with its meaning."""

import asyncio
import inspect
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from cli.archive import export_warc_command, reextract_command
from cli.ops import register_ops_commands
from cli.output import err, print_summary
from cli.prefect_server import run_settings, server_command
from cli.report import report_command
from cli.sql import export_parquet_command, sql_command
from flows.settings import IngestParameters, Settings
from pipeline.summary import RunSummary

app = typer.Typer(
    help="recite: fetch the pages your seed documents cite, keep their clean text, and "
    "show where text repeats. Results land in one DuckDB file for any SQL client.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _run(extra_seeds: list[str] | None = None, **flags: Any) -> None:
    _quiet_prefect()
    seeds = list(flags.pop("seeds") or []) + list(extra_seeds or [])
    try:
        params = Settings().parameters(seeds=seeds or None, **flags)
    except ValidationError as exc:
        err.print(f"[red]invalid settings:[/red]\n{exc}")
        raise typer.Exit(2) from exc
    _check_db_location(Path(params.db))
    summary = _execute(params)
    print_summary(summary)


def _execute(params: IngestParameters) -> RunSummary:
    from prefect.settings import temporary_settings

    from flows.ingest import ingest  # imports Prefect: only once we know we will run
    from storage.errors import StorageError

    updates = run_settings()
    try:
        with temporary_settings(updates=updates):
            return asyncio.run(ingest(params))
    except StorageError as exc:
        err.print(f"[red]recite run failed:[/red] {exc}")
        raise typer.Exit(1) from exc


def _check_db_location(db: Path) -> None:
    """Fail fast, before Prefect starts, when the database location cannot be written."""
    folder = db.expanduser().absolute().parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if db.is_dir():
        err.print(f"[red]--db {db} is a folder; give a file path such as {db}/recite.duckdb")
        raise typer.Exit(2)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK):
        err.print(f"[red]cannot write the database at {db}: {existing} is not a writable folder")
        raise typer.Exit(2)


def _quiet_prefect() -> None:
    # Without a network, Prefect's telemetry logs failed calls (DESIGN.md, traps).
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _option(name: str, field: FieldInfo) -> inspect.Parameter:
    """A typer option for one settings field: flag, type and help from the model."""
    flag = "--" + name.replace("_", "-")
    annotation: Any = field.annotation
    help_text = str(field.description)
    if name == "seeds":
        annotation = list[str] | None
        option = typer.Option(
            flag, help=help_text + " Several paths may follow --seeds.", metavar="PATH"
        )
    elif annotation is bool:
        annotation = bool | None
        no_flag = "--no-" + name.replace("_", "-")
        option = typer.Option(f"{flag}/{no_flag}", help=help_text, show_default=False)
    elif name == "allowed_ports":
        annotation = str | None
        option = typer.Option(flag, help=help_text + " Comma-separated.", metavar="PORTS")
    else:
        metavar = {int: "INT", float: "NUMBER"}.get(annotation, "TEXT")
        annotation = annotation | None
        option = typer.Option(flag, help=help_text, metavar=metavar)
    default_note = field.default if field.default_factory is None else field.default_factory()  # type: ignore[call-arg]
    shown = "empty" if default_note == "" else default_note
    option.help = f"{option.help} Env RECITE_{name.upper()}; default {shown}."
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=None,
        annotation=Annotated[annotation, option],
    )


def _build_run_command() -> None:
    extra = inspect.Parameter(
        "extra_seeds", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
        annotation=Annotated[
            list[str] | None,
            typer.Argument(help="More seed paths (so `--seeds a b c` works).", show_default=False),
        ],
    )
    params = [extra] + [_option(n, f) for n, f in IngestParameters.model_fields.items()]

    def run(**kwargs: Any) -> None:
        _run(**kwargs)

    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__doc__ = (
        "Run the ingest flow once, in-process: read seeds, fetch what they cite, extract, "
        "store, publish the database. Every setting is also an environment variable."
    )
    app.command("run")(run)


@app.callback()
def _root() -> None:
    """recite: nightly ingestion of cited pages, with deduplication, into DuckDB."""


_build_run_command()
app.command("server")(server_command)
app.command("reextract")(reextract_command)
app.command("export-warc")(export_warc_command)
app.command("sql")(sql_command)
app.command("export-parquet")(export_parquet_command)
app.command("report")(report_command)
register_ops_commands(app)


def main() -> None:
    """Entry point of the `recite` script."""
    app(prog_name="recite")


if __name__ == "__main__":
    main()
