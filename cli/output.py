"""What the `recite` commands share: the consoles, the `--db` option, the run summary table."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flows.settings import IngestParameters
from pipeline.summary import RunSummary
from storage.outcomes import RunStatus, Stage, VersionReason
from storage.run_report import short_diff

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
    _print_pages(summary)
    for warning in summary.warnings:
        err.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)
    _print_quotes(summary)
    if summary.status == RunStatus.COMPLETED_WITH_ERRORS:
        failed = summary.count(Stage.ERRORS)
        err.print(
            f"[yellow]completed with errors: {failed} item(s) failed a dedup step and were set "
            "aside; the rest is published. See them with `recite sql -c \"SELECT * FROM "
            f"step_failures WHERE run_id = '{summary.run_id}'\"`; the next run tries them again."
        )


def _print_quotes(summary: RunSummary) -> None:
    """Each seed's quotations: exact / near / absent / unavailable, and the absent ones."""
    if not summary.quotes:
        return
    console.print("[bold]Quotations in seeds[/bold] (quote_checks): exact / near / absent / unavailable")
    for q in summary.quotes:
        console.print(f"  {q.seed}  {q.exact} / {q.near} / {q.absent} / {q.unavailable}",
                      markup=False, highlight=False, soft_wrap=True)
        for quote, url in q.absent_quotes:
            short = quote if len(quote) <= 100 else quote[:99] + "…"
            console.print(f"    absent from {url}: “{short}”", markup=False, highlight=False,
                          soft_wrap=True)


def _print_pages(summary: RunSummary) -> None:
    """The cited pages that changed in the run, each with a short diff, and those gone."""
    changed = summary.count(Stage.VERSIONS, VersionReason.CHANGES)
    if summary.changes:
        console.print(f"[bold]{changed} cited page(s) changed[/bold] (page_changes):")
        for c in summary.changes:
            title = f"  title: {c.title_before} → {c.title_after}" if c.title_before != c.title_after else ""
            console.print(
                f"  {c.url}  v{c.from_version} → v{c.to_version}, +{c.paragraphs_added} "
                f"-{c.paragraphs_removed} paragraphs{title}", markup=False, highlight=False, soft_wrap=True,
            )
            for line in short_diff(c.diff, lines=4).splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                console.print(f"    {line}", style=style, markup=False, highlight=False, soft_wrap=True)
        if changed > len(summary.changes):
            console.print(f"  … and {changed - len(summary.changes)} more")
    gone = summary.count(Stage.VERSIONS, VersionReason.GONE)
    if summary.gone:
        console.print(f"[bold]{gone} cited page(s) gone[/bold] (link_rot; their last version is kept):")
        for g in summary.gone:
            code = f" HTTP {g.last_status_code}" if g.last_status_code else ""
            console.print(f"  {g.url}  {g.last_outcome}{code}, last answered {g.last_ok_at:%Y-%m-%d %H:%M}"
                          if g.last_ok_at else f"  {g.url}  {g.last_outcome}{code}",
                          markup=False, highlight=False, soft_wrap=True)
        if gone > len(summary.gone):
            console.print(f"  … and {gone - len(summary.gone)} more")
