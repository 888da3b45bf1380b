"""What the `recite` commands share: the consoles, the `--db` option, the run summary table."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flows.settings import IngestParameters
from pipeline.summary import RunSummary
from storage.outcomes import RunStatus, Stage

console = Console()
err = Console(stderr=True)

# The one default of every command's --db: the run's own (flows/settings.py).
DEFAULT_DB = Path(str(IngestParameters.model_fields["db"].default))

DbOption = Annotated[
    Path,
    typer.Option(
        "--db", envvar="RECITE_DB", metavar="PATH",
        help="The database `recite run --db` writes (readers open the published file read-only).",
    ),
]


def print_summary(summary: RunSummary) -> None:
    """Print the run's counts by stage and reason, and the database totals."""
    table = Table(title=f"recite run {summary.run_id}", show_lines=False)
    table.add_column("stage")
    table.add_column("reason")
    table.add_column("count", justify="right")
    for stage, reason, n in summary.counts:
        table.add_row(stage, reason, str(n))
    console.print(table)
    totals = Table(title=f"database {summary.db}")
    totals.add_column("table")
    totals.add_column("rows", justify="right")
    for name, n in summary.totals:
        totals.add_row(name, str(n))
    console.print(totals)
    if summary.status == RunStatus.COMPLETED_WITH_ERRORS:
        failed = summary.count(Stage.ERRORS)
        err.print(
            f"[yellow]completed with errors: {failed} item(s) failed a dedup step and were set "
            "aside; the rest is published. See them with `recite sql -c \"SELECT * FROM "
            f"step_failures WHERE run_id = '{summary.run_id}'\"`; the next run tries them again."
        )
