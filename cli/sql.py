"""`recite sql` and `recite export-parquet`: read the published database, never write it.

Both open `--db` read-only, like any SQL client should (docs/sql.md): readers share the
file, and the nightly run replaces it underneath them without waiting for them.
"""

import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.table import Table
from rich.text import Text

from cli.output import DEFAULT_DB, DbOption, console, err
from storage.database import open_published
from storage.errors import StorageError
from storage.export import EXPORTED_VIEWS, export_parquet

_CELL_CHARS = 200
LIST_RELATIONS = """
SELECT table_name AS name, 'table' AS kind, comment FROM duckdb_tables()
WHERE schema_name = 'main' AND NOT internal
UNION ALL
SELECT view_name, 'view', comment FROM duckdb_views()
WHERE schema_name = 'main' AND NOT internal
ORDER BY kind, name
"""
_HELP = (
    "End a statement with ';'. Dot commands: .tables (tables and views with their meaning), "
    ".schema NAME (columns and comments), .quit"
)

def sql_command(
    db: DbOption = DEFAULT_DB,
    command: Annotated[
        str | None,
        typer.Option(
            "-c", "--command", metavar="QUERY",
            help="Run QUERY (SQL, or a dot command such as .tables) and print the result. "
            "Without -c: the duckdb CLI (`duckdb -readonly`) if installed, else a built-in shell.",
        ),
    ] = None,
    max_rows: Annotated[int, typer.Option(min=1, help="Rows printed at most per result.")] = 200,
) -> None:
    """Query the published database read-only: -c QUERY prints a table; without -c, a shell."""
    if command is None and (exe := shutil.which("duckdb")):
        _require(db)
        raise typer.Exit(subprocess.call([exe, "-readonly", str(db)]))
    try:
        with open_published(db) as con:
            if command is not None:
                if not _run(con, command, max_rows):
                    raise typer.Exit(1)
                return
            _shell(con, db, max_rows)
    except StorageError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


def export_parquet_command(
    out_dir: Annotated[
        Path,
        typer.Argument(
            metavar="OUT_DIR",
            help="Folder for the files, created if missing: <name>.parquet per table and per "
            "view (" + ", ".join(EXPORTED_VIEWS) + "), with the same column names; and "
            "fetches_by_run_date/, documents_by_run_date/: hive-partitioned by run date.",
        ),
    ],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write every table and the main views of the published database as Parquet files."""
    try:
        files = export_parquet(db, out_dir, EXPORTED_VIEWS)
    except StorageError as exc:
        err.print(f"[red]export failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    table = Table(title=f"{len(files)} Parquet files in {out_dir}")
    for name, justify in (("name", "left"), ("kind", "left"), ("rows", "right"), ("file", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in files:
        table.add_row(f.name, f.kind, str(f.rows), str(f.path))
    console.print(table)


def _require(db: Path) -> None:
    if not db.is_file():
        err.print(f"[red]no database at {db}; run `recite run` first[/red]")
        raise typer.Exit(1)


def _shell(con: duckdb.DuckDBPyConnection, db: Path, max_rows: int) -> None:
    """A line-based SQL shell for machines without the duckdb CLI."""
    console.print(f"recite sql: {db} (read-only). {_HELP}", highlight=False)
    lines: list[str] = []
    while True:
        try:
            line = input("recite> " if not lines else "   ...> ")
        except EOFError:
            break
        if not lines and line.strip().startswith("."):
            if line.strip() in (".quit", ".exit"):
                break
            _run(con, line, max_rows)
            continue
        lines.append(line)
        if line.rstrip().endswith(";"):
            _run(con, "\n".join(lines), max_rows)
            lines.clear()
    if any(line.strip() for line in lines):
        _run(con, "\n".join(lines), max_rows)


def _run(con: duckdb.DuckDBPyConnection, text: str, max_rows: int) -> bool:
    """Run SQL or a dot command and print its result; False (and a message) on error."""
    try:
        cursor = _execute(con, text.strip())
    except (duckdb.Error, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return False
    if cursor.description:
        print_result(cursor, max_rows)
    return True


def _execute(con: duckdb.DuckDBPyConnection, text: str) -> duckdb.DuckDBPyConnection:
    if not text.startswith("."):
        return con.execute(text)
    name, _, arg = text.partition(" ")
    if name == ".tables":
        return con.execute(LIST_RELATIONS)
    if name == ".schema" and arg.strip():
        return con.execute(
            "SELECT column_name AS name, data_type AS type, comment FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [arg.strip().rstrip(";")],
        )
    raise ValueError(f"unknown command {text!r}. {_HELP}")


def print_result(cursor: duckdb.DuckDBPyConnection, max_rows: int) -> None:
    """Print a query's rows as a table, at most `max_rows` of them."""
    names = [str(d[0]) for d in cursor.description or ()]
    rows = cursor.fetchmany(max_rows + 1)
    table = Table(show_lines=False)
    for name in names:
        table.add_column(Text(name), overflow="fold")
    for row in rows[:max_rows]:
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    more = " (more not shown; raise --max-rows or add LIMIT)" if len(rows) > max_rows else ""
    count = min(len(rows), max_rows)
    console.print(f"{count} row{'s' if count != 1 else ''}{more}", highlight=False)


def _cell(value: object) -> Text:
    # Text, not str: rich would read "[...]" in values (lists, URLs) as markup.
    if value is None:
        return Text("NULL", style="dim")
    text = str(value)
    return Text(text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 1] + "…")

