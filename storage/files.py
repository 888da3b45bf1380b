"""Durable file writes: a file is whole on disk under its final name, or not there."""

import os
from collections.abc import Callable
from pathlib import Path


def replace_durably(
    tmp: Path, final: Path, before_rename: Callable[[], None] | None = None
) -> None:
    """fsync `tmp`, rename it over `final` (atomic on POSIX), fsync the folder."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    if before_rename is not None:
        before_rename()
    os.replace(tmp, final)
    fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def wal_path(path: Path) -> Path:
    """The write-ahead log DuckDB keeps beside the database file `path`."""
    return path.with_name(path.name + ".wal")


def sql_literal(text: str) -> str:
    """A SQL string literal (a path in COPY or ATTACH, which take no parameters)."""
    return "'" + text.replace("'", "''") + "'"
