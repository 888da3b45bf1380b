"""The writer's working database and its atomic publication to the file clients open.

DuckDB lets one process hold a file read-write, and then no other process can open it
at all. So the run never writes the path clients open (`--db`): it writes a working
file beside it (`<db>.work`), and at the end of a successful run renames it over `--db`
(rename(2) is atomic on POSIX). A client holding the old file keeps reading the old
inode, whole, until it reconnects; a run that fails or is killed publishes nothing, and
the next run resumes from the working file it left. The working file is the writer's own
and is never opened by clients.

Publishing costs a checkpoint and a rename, whatever the size of the store (issue 14).
The next run makes its working file from the file published before (`<db>.stale`),
caught up by the keys the last run changed (storage/catch_up.py), or else by copying.
"""

import contextlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from storage.body_files import has_inline_bodies
from storage.catch_up import (
    Preparation,
    catch_up,
    keep_as_stale,
    record_published,
    reset_marks,
    stamp,
)
from storage.errors import DatabaseLocked, DatabaseUnavailable, PublishError, StorageError
from storage.files import replace_durably, sql_literal, wal_path
from storage.schema import migrate
from storage.tx import transaction


def working_path(db_path: Path) -> Path:
    """The writer's working file for the published database `db_path`."""
    return db_path.with_name(db_path.name + ".work")


# A DuckDB size setting: a number and a unit (DuckDB accepts both 1000- and 1024-based).
MEMORY_SIZE = r"\d+(\.\d+)?\s*[KMGT]i?B"


def is_memory_size(value: str) -> bool:
    """True if `value` is a size DuckDB's memory_limit takes, such as '1GB' or '512 MiB'."""
    return re.fullmatch(MEMORY_SIZE, value) is not None

# The storage format the database is written in (issue 14). DuckDB 2.0 writes format 69
# by default, which no 1.x client reads: the newest duckdb CLI on PyPI and Node's
# @duckdb/node-api (1.5.x) read 64-68, and DBeaver's JDBC driver lags further. Written as
# for DuckDB 1.1, the file opens in every client from Python duckdb 1.1.0 on (1.0.0 fails
# on a catalog field DuckDB 2.0 writes), with every view and comment (docs/sql.md, tried
# by tests/sqlclients/test_real_clients.py).
STORAGE_VERSION = "v1.1.0"
# How `duckdb_databases().tags` names that format: 1.0 and 1.1 share storage format 64.
STORAGE_TAG = "v1.0.0+"


class WorkingDatabase:
    """The working database of one run: a read-write connection, published at the end."""

    def __init__(self, db_path: Path, memory_limit: str | None = None) -> None:
        if memory_limit is not None and not is_memory_size(memory_limit):
            raise ValueError(f"not a DuckDB memory size: {memory_limit!r} (e.g. '1GB')")
        self.db_path = db_path
        self.work_path = working_path(db_path)
        self.memory_limit = memory_limit
        self.preparation = Preparation("new")
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The open read-write connection."""
        if self._con is None:
            raise DatabaseUnavailable("the working database is not open")
        return self._con

    def open(self) -> "WorkingDatabase":
        """Create the folder, seed the working file from the published one, migrate."""
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(f"cannot create {self.db_path.parent}: {exc}") from exc
        if not os.access(self.db_path.parent, os.W_OK):
            raise DatabaseUnavailable(f"cannot write in {self.db_path.parent}")
        with write_errors(self.work_path):
            if self.db_path.exists() and not self.work_path.exists():
                self.preparation = self._from_published()
            elif self.work_path.exists():
                self.preparation = Preparation("resumed")
            self._con = _connect(self.work_path)
            if storage_tag(self._con) != STORAGE_TAG:
                self._con.execute("CHECKPOINT")  # the WAL into the file, then rewrite it
                self._con.close()
                convert_storage(self.work_path)
                self._con = _connect(self.work_path)
            if self.memory_limit is not None:
                # Validated above: a number and a unit, nothing to quote.
                self._con.execute(f"SET memory_limit = '{self.memory_limit}'")
            inline = has_inline_bodies(self._con)
            migrate(self._con)
            if inline and not has_inline_bodies(self._con):  # migration 50 moved them
                # Dropping the column leaves its blocks in the file: rewrite it, so the
                # database holds no bodies.
                self._con.execute("CHECKPOINT")
                self._con.close()
                convert_storage(self.work_path)
                self._con = _connect(self.work_path)
            if self.preparation.how == "copied":  # a catch-up reset them in its transaction
                with transaction(self._con):
                    reset_marks(self._con)
        return self

    def _from_published(self) -> Preparation:
        """Make the working file from the published state: caught up, or else copied."""
        # No working file: a WAL beside its name is left from a killed catch-up or copy.
        wal_path(self.work_path).unlink(missing_ok=True)
        prepared = catch_up(self.db_path, self.work_path, self.memory_limit)
        if prepared.how == "caught_up":
            return prepared
        started = time.monotonic()
        _copy_atomic(self.db_path, self.work_path)
        return Preparation("copied", prepared.reason, time.monotonic() - started)

    def close(self) -> None:
        """Checkpoint and close the connection (idempotent)."""
        if self._con is not None:
            with contextlib.suppress(duckdb.Error):
                self._con.execute("CHECKPOINT")
            self._con.close()
            self._con = None

    def publish(self, before_rename: Callable[[], None] | None = None) -> None:
        """Close, then atomically rename the working file over the published one."""
        with transaction(self.con):
            stamp(self.con, str(uuid.uuid4()))
        self.close()
        try:
            keep_as_stale(self.db_path)
            replace_durably(self.work_path, self.db_path, before_rename)
        except OSError as exc:
            raise PublishError(f"could not publish {self.db_path}: {exc}") from exc
        _drop_client_wal(self.db_path)
        record_published(self.db_path)

    def __enter__(self) -> "WorkingDatabase":
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def write_errors(path: Path) -> Iterator[None]:
    """Translate DuckDB and OS errors raised while writing `path` into `DatabaseUnavailable`."""
    try:
        yield
    except StorageError:
        raise
    except (duckdb.Error, OSError) as exc:
        raise DatabaseUnavailable(
            f"cannot write the database {path} (disk full or not writable?): {exc}"
        ) from exc


@contextlib.contextmanager
def open_published(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published database, for reports and exports."""
    if not db_path.exists():
        raise DatabaseUnavailable(f"no database at {db_path}; run `recite run` first")
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            # A read-write client locks out every other process, readers included.
            raise DatabaseUnavailable(
                f"cannot open {db_path}: another process holds it read-write; connect SQL "
                f"clients read-only (docs/sql.md) so that they can share it. {exc}"
            ) from exc
        raise DatabaseUnavailable(f"cannot open {db_path}: {exc}") from exc
    try:
        yield con
    finally:
        con.close()


def storage_tag(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format of the connection's database, as DuckDB names it ('v1.0.0+')."""
    rows = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() "
        "WHERE database_name = current_database()"
    ).fetchall()
    return str(rows[0][0]) if rows else ""


def convert_storage(path: Path) -> None:
    """Rewrite the database at `path` in STORAGE_VERSION's format, every row and comment kept.

    For a file a release before issue 14 wrote in DuckDB 2.0's own format, and to drop the
    space of the bodies moved out of it (storage.body_files). The copy is made beside it,
    checked table by table, and renamed over it: a run killed meanwhile leaves the
    original whole.
    """
    tmp = path.with_name(path.name + ".convert")
    for leftover in (tmp, wal_path(tmp)):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {sql_literal(str(path))} AS old_format (READ_ONLY)")
        con.execute(
            f"ATTACH {sql_literal(str(tmp))} AS new_format (STORAGE_VERSION '{STORAGE_VERSION}')"
        )
        con.execute("COPY FROM DATABASE old_format TO new_format")
        _check_copy(con, "old_format", "new_format")
        con.execute("CHECKPOINT new_format")  # all in the file, no WAL left beside it
        con.execute("DETACH new_format")
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        raise DatabaseUnavailable(
            f"cannot convert {path} to DuckDB {STORAGE_VERSION} storage: {exc}"
        ) from exc
    finally:
        con.close()
    replace_durably(tmp, path)


def _check_copy(con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Raise unless every table has as many rows in `new` as in `old`, and every comment."""
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1", [old]
    ).fetchall()]
    for table in tables:
        counts = [con.execute(f'SELECT count(*) FROM {db}.main."{table}"').fetchall()[0][0]
                  for db in (old, new)]
        if counts[0] != counts[1]:
            raise duckdb.InvalidInputException(f"{table}: {counts[0]} rows, {counts[1]} copied")
    comments = (
        "SELECT count(comment) FROM duckdb_columns() WHERE database_name = ?",
        "SELECT count(comment) FROM duckdb_views() WHERE database_name = ?",
    )
    for sql in comments:
        before, after = (con.execute(sql, [db]).fetchall()[0][0] for db in (old, new))
        if before != after:
            raise duckdb.InvalidInputException(f"{before} comments, {after} copied")


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    # Applies to a file this creates; an existing file keeps the format it was created with.
    config: dict[str, str | bool | int | float | list[str]] = {
        "storage_compatibility_version": STORAGE_VERSION
    }
    try:
        return duckdb.connect(str(path), config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseLocked(
                f"another recite run is writing {path} (only one run may write at a time): {exc}"
            ) from exc
        raise DatabaseUnavailable(f"cannot open {path}: {exc}") from exc
    except duckdb.Error as exc:
        raise DatabaseUnavailable(f"cannot open {path}: {exc}") from exc


def _copy_atomic(src: Path, dst: Path, before_rename: Callable[[], None] | None = None) -> None:
    """Copy `src` to a temporary file beside `dst`, fsync it, and rename it over `dst`."""
    _remove_stale_copies(dst)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(src, tmp)
        replace_durably(tmp, dst, before_rename)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _drop_client_wal(db_path: Path) -> None:
    """Remove the WAL a client left beside the file that publishing just replaced.

    The run never opens `<db>`, so `<db>.wal` holds a client's writes to the old file,
    which the rename already detached. Left there, DuckDB refuses to open the new file
    (the WAL does not match it: "... checkpoint iteration does not match ...") until that
    client disconnects. Failing to remove it does not fail the run that just published.
    """
    with contextlib.suppress(OSError):
        wal_path(db_path).unlink()


def _remove_stale_copies(dst: Path) -> None:
    """Delete temporary copies left by a process killed while publishing."""
    for stale in dst.parent.glob(f".{dst.name}.tmp-*"):
        with contextlib.suppress(OSError):
            stale.unlink()
