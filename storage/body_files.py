"""The raw archive's bodies: immutable Parquet files beside the database (issue 14).

Bodies are most of what recite stores, and the archive only grows. Kept inside the
database, every nightly publish copied all of them again. They live instead in a folder
beside the published file, `<db>.archive/`, one Parquet file per stored batch, written
once (to a temporary name, fsynced, renamed) and never changed or deleted. The database
keeps each response's metadata in `responses`, with `archive_file` naming the file that
holds its body, and lists every file in `archive_files`; publishing copies the database
only.

A client on any published snapshot finds every body its `responses` rows name: a batch's
file is complete on disk before the transaction that references it commits, and files
are never removed. A killed run may leave a file no published snapshot names; it holds
real responses and is harmless.

Columns of each file: `BODY_COLUMNS` (body_compressed: storage.codec; zstd-1 since
schema version 30).
"""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from storage.files import replace_durably, sql_literal

ARCHIVE_SUFFIX = ".archive"
BODY_COLUMNS = ("url", "fetched_at", "body_sha256", "body_bytes", "body_codec", "body_compressed")
_WORK_SUFFIX = ".work"


def archive_dir(db_path: Path) -> Path:
    """The body folder of the published database `db_path` (and of its working file)."""
    name = db_path.name.removesuffix(_WORK_SUFFIX)
    return db_path.with_name(name + ARCHIVE_SUFFIX)


def archive_dir_of(con: duckdb.DuckDBPyConnection) -> Path:
    """The body folder of the database file `con` has open (working or published)."""
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    if not rows or not rows[0][0]:
        raise ValueError("an in-memory database has no archive folder")
    return archive_dir(Path(str(rows[0][0])))


def write_bodies(folder: Path, table: pa.Table, at: datetime) -> str:
    """Write one batch's bodies as a new file in `folder`; return its name."""
    name, tmp = _new_file(folder, at)
    # Bodies are compressed already: Parquet's own compression would only cost time.
    pq.write_table(table, tmp, compression="none")
    replace_durably(tmp, folder / name)
    return name


def _new_file(folder: Path, at: datetime) -> tuple[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"bodies-{at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.parquet"
    return name, folder / f".{name}.tmp"


def has_inline_bodies(con: duckdb.DuckDBPyConnection) -> bool:
    """True while `responses` still holds bodies itself (a database before schema 50)."""
    rows = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'responses' "
        "AND column_name = 'body_compressed' AND database_name = current_database()"
    ).fetchall()
    return bool(rows[0][0])


def move_bodies_out(con: duckdb.DuckDBPyConnection) -> None:
    """Move bodies still inside `responses` to one archive file, and drop the column.

    Migration 50 runs this inside its transaction. The file is complete on disk before
    that transaction commits, so a crash leaves the old layout or the new one, and at
    worst a file nothing names.
    """
    if not has_inline_bodies(con):
        return
    (rows,) = con.execute("SELECT count(*) FROM responses").fetchall()[0]
    if rows:
        at = datetime.now(UTC)
        folder = archive_dir_of(con)
        name, tmp = _new_file(folder, at)
        con.execute(
            f"COPY (SELECT {', '.join(BODY_COLUMNS)} FROM responses ORDER BY url) "
            f"TO {sql_literal(str(tmp))} (FORMAT parquet, COMPRESSION uncompressed)"
        )
        replace_durably(tmp, folder / name)
        con.execute("UPDATE responses SET archive_file = ?", [name])
        con.execute(
            "INSERT INTO archive_files VALUES (?, NULL, ?, ?, ?)",
            [name, rows, (folder / name).stat().st_size, at],
        )
    con.execute("ALTER TABLE responses DROP COLUMN body_compressed")
