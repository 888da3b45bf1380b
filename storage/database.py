"""The writer's working database and its atomic publication to the file clients open.

DuckDB lets one process hold a file read-write, and then no other process can open it
at all. So the run never writes the path clients open (`--db`): it writes a working
file beside it (`<db>.work`), and at the end of a successful run copies it to a
temporary file and renames that over `--db` (rename(2) is atomic on POSIX). A client
holding the old file keeps reading the old inode, whole, until it reconnects; a run that
fails or is killed publishes nothing. The working file is the writer's own and is
never opened by clients; it survives between runs, so the next run resumes from it.
"""

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from storage.errors import DatabaseLocked, DatabaseUnavailable, PublishError, StorageError
from storage.schema import migrate


def working_path(db_path: Path) -> Path:
    """The writer's working file for the published database `db_path`."""
    return db_path.with_name(db_path.name + ".work")


# A DuckDB size setting: a number and a unit (DuckDB accepts both 1000- and 1024-based).
MEMORY_SIZE = r"\d+(\.\d+)?\s*[KMGT]i?B"


class WorkingDatabase:
    """The working database of one run: a read-write connection, published at the end."""

    def __init__(self, db_path: Path, memory_limit: str | None = None) -> None:
        if memory_limit is not None and not re.fullmatch(MEMORY_SIZE, memory_limit):
            raise ValueError(f"not a DuckDB memory size: {memory_limit!r} (e.g. '1GB')")
        self.db_path = db_path
        self.work_path = working_path(db_path)
        self.memory_limit = memory_limit
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
                _copy_atomic(self.db_path, self.work_path)
            self._con = _connect(self.work_path)
            if self.memory_limit is not None:
                # Validated above: a number and a unit, nothing to quote.
                self._con.execute(f"SET memory_limit = '{self.memory_limit}'")
            migrate(self._con)
        return self

    def close(self) -> None:
        """Checkpoint and close the connection (idempotent)."""
        if self._con is not None:
            with contextlib.suppress(duckdb.Error):
                self._con.execute("CHECKPOINT")
            self._con.close()
            self._con = None

    def publish(self, before_rename: Callable[[], None] | None = None) -> None:
        """Close, then atomically replace the published file with a copy of the working one."""
        self.close()
        try:
            _copy_atomic(self.work_path, self.db_path, before_rename)
        except OSError as exc:
            raise PublishError(f"could not publish {self.db_path}: {exc}") from exc
        _drop_client_wal(self.db_path)

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


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path))
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
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        if before_rename is not None:
            before_rename()
        os.replace(tmp, dst)
        _fsync_dir(dst.parent)
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
        db_path.with_name(db_path.name + ".wal").unlink()


def _remove_stale_copies(dst: Path) -> None:
    """Delete temporary copies left by a process killed while publishing."""
    for stale in dst.parent.glob(f".{dst.name}.tmp-*"):
        with contextlib.suppress(OSError):
            stale.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
