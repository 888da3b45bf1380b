"""SQL clients we did not write, installed for the tests: the duckdb CLI, Node, an old Python.

Each is installed once into a cache folder (`RECITE_CLIENT_CACHE`, default
`.cache/sqlclients` in the checkout) from the registries users get them from:

* `duckdb-cli` from PyPI (the newest duckdb CLI there), in a venv of its own;
* `@duckdb/node-api` from npm, run by the machine's Node.js;
* Python `duckdb` 1.1.0, the oldest release that opens recite's file (docs/sql.md), with
  pytz, which it needs to return TIMESTAMPTZ values.

Every client answers the same way: a list of queries in, for each the rows with every
value cast to VARCHAR by the client's own DuckDB (`as_text`), so results compare across
versions and languages without our code converting any value.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLI_VERSION = "1.5.6"
NODE_API_VERSION = "1.5.6-r.1"
OLDEST_PYTHON = "1.1.0"
_HERE = Path(__file__).resolve().parent
_CACHE = Path(os.environ.get("RECITE_CLIENT_CACHE", _HERE.parents[1] / ".cache" / "sqlclients"))

Rows = list[list[str | None]]


class ClientUnavailable(Exception):
    """A client could not be installed here (no network, no Node.js)."""


def as_text(sql: str) -> str:
    """`sql` with every result column as JSON text, made by the client's own DuckDB.

    JSON rather than a cast to VARCHAR: DuckDB 1.1 and 2.0 print a list of strings
    differently (`[a]`, `['a']`), while their JSON agrees (see `values`).
    """
    return f"SELECT to_json(COLUMNS(*))::VARCHAR FROM ({sql.strip().rstrip(';')})"


@dataclass(frozen=True)
class Client:
    """A client program and how to run a batch of queries on a file read-only."""

    name: str
    argv: tuple[str, ...]  # run with: db path, JSON file of queries; prints JSON results

    def run(self, db: Path, queries: Sequence[str], timeout: float = 120) -> list[Rows | str]:
        """For each query its rows (as text), or the error message the client gave."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(["SET TimeZone = 'UTC'", *queries], handle)
        batch = Path(handle.name)
        try:
            done = subprocess.run([*self.argv, str(db), str(batch)], capture_output=True,
                                  text=True, timeout=timeout)
        finally:
            batch.unlink(missing_ok=True)
        if done.returncode != 0:
            return [f"{self.name} exited {done.returncode}: {done.stderr[-1500:]}"] * len(queries)
        results: list[Rows | str] = json.loads(done.stdout)
        return results[1:]


def _run(argv: Sequence[str], cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=900, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ClientUnavailable(f"{argv[0]}: {exc}") from exc
    if done.returncode != 0:
        raise ClientUnavailable(f"{' '.join(argv)} failed: {done.stderr[-1500:]}")


def _venv(folder: Path, *packages: str) -> Path:
    python = folder / "bin" / "python"
    marker = folder / ".installed"
    if not marker.exists():
        _run([sys.executable, "-m", "venv", "--clear", str(folder)])
        _run([str(python), "-m", "pip", "install", "-q", *packages])
        marker.write_text(" ".join(packages))
    return python


def duckdb_cli() -> Client:
    """The duckdb CLI from PyPI's `duckdb-cli`."""
    folder = _CACHE / f"duckdb-cli-{CLI_VERSION}"
    python = _venv(folder, f"duckdb-cli=={CLI_VERSION}")
    binary = folder / "bin" / "duckdb"
    if not binary.exists():
        raise ClientUnavailable(f"duckdb-cli installed no {binary}")
    return Client("duckdb-cli", (str(python), str(_HERE / "cli_queries.py"), str(binary)))


def node_api() -> Client:
    """Node.js with `@duckdb/node-api` from npm."""
    folder = _CACHE / f"node-api-{NODE_API_VERSION}"
    module = folder / "node_modules" / "@duckdb" / "node-api"
    if not (folder / ".installed").exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"name": "recite-sql-client-tests", "private": true}')
        _run(["npm", "install", "--no-audit", "--no-fund", f"@duckdb/node-api@{NODE_API_VERSION}"],
             cwd=folder)
        (folder / ".installed").write_text(NODE_API_VERSION)
    return Client("node-api", ("node", str(_HERE / "node_queries.js"), str(module)))


def oldest_python() -> Client:
    """Python with the oldest duckdb release that opens the file."""
    python = _venv(_CACHE / f"python-duckdb-{OLDEST_PYTHON}", f"duckdb=={OLDEST_PYTHON}", "pytz")
    return Client(f"python-duckdb-{OLDEST_PYTHON}", (str(python), str(_HERE / "py_queries.py")))


def this_python() -> Client:
    """The duckdb package recite writes with, through the same script, for the reference."""
    return Client("python-duckdb-writer", (sys.executable, str(_HERE / "py_queries.py")))


def values(rows: Rows) -> list[list[object]]:
    """Rows of `as_text` cells as Python values, sorted (ties in an ORDER BY may swap).

    A whole number is one whatever its type: `sum()` of an INTEGER column is a HUGEINT in
    DuckDB 1.1 (JSON `3940.0`) and an INT128 in 2.0 (`3940`).
    """
    def value(cell: object) -> object:
        if isinstance(cell, float) and cell.is_integer():
            return int(cell)
        if isinstance(cell, list):
            return [value(c) for c in cell]
        if isinstance(cell, dict):
            return {k: value(v) for k, v in cell.items()}
        return cell

    parsed = [[value(json.loads(c)) if c is not None else None for c in row] for row in rows]
    return sorted(parsed, key=repr)
