"""A record's columns are its fields, in order; a nested record's fields stand in its place.

Storage writes records as Arrow tables (storage.bulk) and reads rows back into records by
column name, so a record's dataclass is the one list of its columns. The tables themselves
come from migrations (storage.schema); tests/storage/test_record_columns.py checks that each
table's columns are the ones its record declares.
"""

import dataclasses
import functools
import operator
import types
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import duckdb
import pyarrow as pa

T = TypeVar("T")

TIMESTAMP = pa.timestamp("us", tz="UTC")
_ARROW = {int: pa.int64(), str: pa.string(), float: pa.float64(), bool: pa.bool_(),
          bytes: pa.binary(), datetime: TIMESTAMP}


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    """One column of a record: its name, the attributes leading to its value, its type."""

    name: str
    path: tuple[str, ...]
    type: type

    def value(self, record: object) -> object:
        """This column's value in `record`."""
        return self.getter()(record)

    def getter(self) -> "operator.attrgetter[object]":
        """A function of a record giving this column's value (C speed: a batch's tables
        take hundreds of thousands of values, issue 20)."""
        return _getter(self.path)


@functools.cache
def _getter(path: tuple[str, ...]) -> "operator.attrgetter[object]":
    return operator.attrgetter(".".join(path))


@functools.cache
def columns(record: type) -> tuple[Column, ...]:
    """The columns of a record type: its fields in order, a nested record's in its place."""
    out: list[Column] = []
    for name, kind in _fields(record):
        if dataclasses.is_dataclass(kind):
            out += [dataclasses.replace(c, path=(name, *c.path)) for c in columns(kind)]
        else:
            out.append(Column(name, (name,), kind))
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise TypeError(f"{record.__name__} has two columns of one name: {names}")
    return tuple(out)


def column_names(record: type, skip: Sequence[str] = ()) -> tuple[str, ...]:
    """The names of a record type's columns, in order, without those in `skip`."""
    return tuple(c.name for c in columns(record) if c.name not in skip)


def values(record: object) -> list[object]:
    """A record's column values, in the order of its columns."""
    kind: type = type(record)
    return [c.value(record) for c in columns(kind)]


def select_list(record: type, alias: str = "", skip: Sequence[str] = ()) -> str:
    """A SELECT list of the record's columns (qualified by `alias` if given)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + name for name in column_names(record, skip))


def from_row(record: type[T], row: Mapping[str, Any]) -> T:
    """A record built by column name from a row; columns the record lacks are ignored."""
    plain: type = record  # what functools.cache keys on
    values = {
        name: from_row(kind, row) if dataclasses.is_dataclass(kind) else row[name]
        for name, kind in _fields(plain)
    }
    return record(**values)


def named_rows(
    cursor: duckdb.DuckDBPyConnection, rows: Sequence[Sequence[Any]] | None = None
) -> list[dict[str, Any]]:
    """The cursor's rows (all that are left unless given) by column name, as it names them."""
    names = [str(d[0]) for d in cursor.description or ()]
    found = cursor.fetchall() if rows is None else rows
    return [dict(zip(names, row, strict=True)) for row in found]


def arrow_table(
    record: type,
    rows: Sequence[object],
    types_of: Mapping[str, pa.DataType] | None = None,
    skip: Sequence[str] = (),
) -> pa.Table:
    """The records as an Arrow table of their columns but `skip`; `types_of` overrides types."""
    overrides = types_of or {}
    return pa.table({
        c.name: pa.array(list(map(c.getter(), rows)), overrides.get(c.name) or _arrow_type(c))
        for c in columns(record) if c.name not in skip
    })


@functools.cache
def _fields(record: type) -> tuple[tuple[str, type], ...]:
    """(name, type without None) of each field of a record type."""
    hints = get_type_hints(record)
    return tuple((f.name, _bare(hints[f.name])) for f in dataclasses.fields(record))


def _arrow_type(column: Column) -> pa.DataType:
    """The Arrow type of a plain column (int is BIGINT, a str or StrEnum VARCHAR, ...)."""
    if isinstance(column.type, type) and issubclass(column.type, StrEnum):
        return pa.string()
    if column.type not in _ARROW:
        raise TypeError(f"no Arrow type for column {column.name}: {column.type}")
    return _ARROW[column.type]


def _bare(kind: object) -> type:
    """`X` for `X | None` (or `Optional[X]`), else the type itself."""
    if get_origin(kind) in (Union, types.UnionType):
        args = [a for a in get_args(kind) if a is not type(None)]
        if len(args) == 1:
            return _bare(args[0])
    return kind  # type: ignore[return-value]
