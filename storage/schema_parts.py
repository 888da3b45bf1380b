"""The declarations every schema module uses: Table, View, Migration (storage/schema.py)."""

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from storage.files import sql_literal


@dataclass(frozen=True, slots=True)
class Table:
    """A table, its meaning (one row per ...) and its columns with their comments."""

    name: str
    comment: str
    columns: tuple[tuple[str, str, str], ...]
    constraints: str = ""

    def create_sql(self) -> str:
        """The CREATE TABLE statement."""
        cols = [f"{name} {sqltype}" for name, sqltype, _ in self.columns]
        if self.constraints:
            cols.append(self.constraints)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  " + ",\n  ".join(cols) + "\n)"

    def comment_sql(self) -> list[str]:
        """COMMENT ON statements for the table and each column."""
        out = [f"COMMENT ON TABLE {self.name} IS {quote(self.comment)}"]
        out += [
            f"COMMENT ON COLUMN {self.name}.{name} IS {quote(text)}"
            for name, _, text in self.columns
        ]
        return out


@dataclass(frozen=True, slots=True)
class View:
    """A view with a stable name for SQL clients: its meaning and its columns' comments."""

    name: str
    comment: str
    select: str
    columns: tuple[tuple[str, str], ...]

    def statements(self) -> list[str]:
        """CREATE OR REPLACE VIEW and its COMMENT ON statements."""
        out = [
            f"CREATE OR REPLACE VIEW {self.name} AS {self.select}",
            f"COMMENT ON VIEW {self.name} IS {quote(self.comment)}",
        ]
        out += [
            f"COMMENT ON COLUMN {self.name}.{name} IS {quote(text)}" for name, text in self.columns
        ]
        return out


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema version: tables to create and extra statements, applied once."""

    version: int
    description: str
    tables: tuple[Table, ...] = ()
    statements: tuple[str, ...] = ()
    views: tuple[View, ...] = ()
    # Work that SQL alone cannot do (writing files), run last in the same transaction.
    action: Callable[[duckdb.DuckDBPyConnection], None] | None = None


def quote(text: str) -> str:
    """A SQL string literal."""
    return sql_literal(text)
