"""Parquet export of the published database: one file per table and per main view.

Each file is `<name>.parquet` with the relation's own column names, written by DuckDB's
`COPY ... TO ... (FORMAT parquet)` from one read-only connection to the published file,
so every file comes from the same run. The relation's comment and its columns' comments
travel in the file's key-value metadata (`comment`, `column:<name>`). A file is written
beside its final name and renamed, so a reader never sees half of one.

The tables that grow every night (fetches, documents) also go out hive-partitioned by
run date (`PARTITIONED`), the layout Dask, Spark and DuckLake read past one machine.
"""

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from storage.database import open_published
from storage.errors import StorageError
from storage.schema_parts import quote

# The views people use as tables; the others are all tables already.
EXPORTED_VIEWS: tuple[str, ...] = (
    "corpus",
    "near_duplicates",
    "duplicate_clusters",
    "repeated_passages",
    "near_repeated_passages",
    "fetch_failures",
    "citations_graph",
    "run_summary",
)


class ExportError(StorageError):
    """A Parquet file could not be written."""


@dataclass(frozen=True, slots=True)
class Relation:
    """A table or view to export, with its comment."""

    name: str
    kind: str
    comment: str


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """One Parquet file written: the relation it holds and its row count."""

    name: str
    kind: str
    path: Path
    rows: int


def export_parquet(
    db_path: Path, out_dir: Path, views: tuple[str, ...] = EXPORTED_VIEWS
) -> list[ExportedFile]:
    """Write every table and the named views (those the database has) to `out_dir`."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out_dir}: {exc}") from exc
    with open_published(db_path) as con:
        files = [export_relation(con, rel, out_dir) for rel in relations(con, views)]
        return files + [export_partitioned(con, name, sql, out_dir)
                        for name, sql in PARTITIONED.items()]


# The tables that grow every night, also as hive-partitioned folders by the date (UTC) of
# the run that wrote the row: <out>/<name>/run_date=YYYY-MM-DD/*.parquet, which Dask,
# Spark, pyarrow datasets and DuckLake read as one table with a run_date column.
PARTITIONED: dict[str, str] = {
    "fetches_by_run_date": (
        "SELECT f.*, strftime(coalesce(r.started_at, f.fetched_at) AT TIME ZONE 'UTC', "
        "'%Y-%m-%d') AS run_date FROM fetches f LEFT JOIN runs r USING (run_id)"
    ),
    "documents_by_run_date": (
        "SELECT d.*, strftime(d.extracted_at AT TIME ZONE 'UTC', '%Y-%m-%d') AS run_date "
        "FROM documents d"
    ),
}


def export_partitioned(
    con: duckdb.DuckDBPyConnection, name: str, sql: str, out_dir: Path
) -> ExportedFile:
    """Write `sql`'s rows to `<out_dir>/<name>/run_date=.../`, replacing an earlier export."""
    final = out_dir / name
    tmp = out_dir / f".{name}.tmp-{os.getpid()}"
    old = out_dir / f".{name}.old-{os.getpid()}"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        (rows,) = con.execute(
            f"COPY ({sql}) TO {quote(str(tmp))} "
            "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (run_date))"
        ).fetchall()[0]  # COPY answers with the rows it wrote
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
    except (duckdb.Error, OSError) as exc:
        raise ExportError(f"cannot write {final}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return ExportedFile(name, "partitioned", final, int(rows))


def relations(con: duckdb.DuckDBPyConnection, views: tuple[str, ...]) -> list[Relation]:
    """Every user table of the database, then the named views it has, in `views` order."""
    tables = con.execute(
        "SELECT table_name, coalesce(comment, '') FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal "
        "ORDER BY table_name"
    ).fetchall()
    found = dict(
        con.execute(
            "SELECT view_name, coalesce(comment, '') FROM duckdb_views() "
            "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"
        ).fetchall()
    )
    return [Relation(str(n), "table", str(c)) for n, c in tables] + [
        Relation(name, "view", str(found[name])) for name in views if name in found
    ]


def export_relation(con: duckdb.DuckDBPyConnection, rel: Relation, out_dir: Path) -> ExportedFile:
    """Write one table or view to `<out_dir>/<name>.parquet`."""
    final = out_dir / f"{rel.name}.parquet"
    tmp = out_dir / f".{rel.name}.parquet.tmp-{os.getpid()}"
    metadata = ", ".join(
        f"{quote(key)}: {quote(text)}" for key, text in _metadata(con, rel).items()
    )
    sql = (
        f"COPY (SELECT * FROM {_ident(rel.name)}) TO {quote(str(tmp))} "
        f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{metadata}}})"
    )
    try:
        row = con.execute(sql).fetchone()
        os.replace(tmp, final)
    except (duckdb.Error, OSError) as exc:
        raise ExportError(f"cannot write {final}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return ExportedFile(rel.name, rel.kind, final, int(row[0]) if row else 0)


def _metadata(con: duckdb.DuckDBPyConnection, rel: Relation) -> dict[str, str]:
    columns = con.execute(
        "SELECT column_name, coalesce(comment, '') FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ? "
        "ORDER BY column_index",
        [rel.name],
    ).fetchall()
    out = {"comment": rel.comment, "recite_kind": rel.kind}
    out.update({f"column:{name}": str(text) for name, text in columns if text})
    return out


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
