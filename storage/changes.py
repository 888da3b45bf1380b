"""Marks of what a write changed, by key, in the same transaction as the write (issue 14).

Every write to a table that storage/catch_up.py syncs by key marks the keys of the rows it
inserts, replaces or deletes: the next run copies exactly those rows from the published
file into the file published before it. A mark too many costs a row copied again; a mark
missing would leave the two files different, which the catch-up's check then catches.
"""

from typing import Literal

import duckdb

Kind = Literal["docs", "urls", "passages", "quotes", "tables"]


def mark(con: duckdb.DuckDBPyConnection, kind: Kind, keys: str) -> None:
    """Mark the keys the query `keys` yields (one column) as changed."""
    con.execute(f"INSERT INTO changed_{kind} SELECT * FROM ({keys})")


def mark_values(con: duckdb.DuckDBPyConnection, kind: Kind, values: list[object]) -> None:
    """Mark the keys in `values` as changed."""
    if values:
        con.execute(f"INSERT INTO changed_{kind} SELECT unnest(?)", [values])


def mark_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Mark `table` as rewritten as a whole: the catch-up copies all of it."""
    mark_values(con, "tables", [table])
