"""`recite report`: the static HTML report of the published database (report/)."""

from pathlib import Path
from typing import Annotated

import typer

from cli.output import DEFAULT_DB, DbOption, console, err


def report_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="DIR",
            help="Folder of the report, created if missing; a report already there is "
            "replaced whole (a folder holding anything else is refused).",
        ),
    ],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write the HTML report of the published database: open DIR/index.html in a browser.

    Pages: overview (latest run, runs over time), duplicate clusters side by side,
    repeated passages, page changes and gone pages, quote checks, fetch failures, and a
    search by URL or title. Static files: no server, nothing fetched from the network.
    Reads the database read-only, so it works while a run is writing.
    """
    from report import ReportError, build_report

    try:
        result = build_report(db, out)
    except ReportError as exc:
        err.print(f"[red]report failed:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    pages = ", ".join(f"{kind} {n}" for kind, n in result.pages)
    console.print(f"wrote {result.files} files to {result.out} (pages: {pages})",
                  markup=False, highlight=False, soft_wrap=True)
    console.print(f"open {result.index.as_uri()}", markup=False, highlight=False, soft_wrap=True)
