"""Run a JSON list of queries on a database, read-only, with whatever duckdb this Python has.

Usage: python py_queries.py DB QUERIES.json. Prints a JSON list: per query its rows, or
the error message. Runs in other Pythons (an old duckdb in its own venv): stdlib only.
"""

import json
import sys
from pathlib import Path

import duckdb

con = duckdb.connect(sys.argv[1], read_only=True)
out = []
for sql in json.loads(Path(sys.argv[2]).read_text()):
    try:
        out.append([list(row) for row in con.execute(sql).fetchall()])
    except duckdb.Error as exc:
        out.append(f"{type(exc).__name__}: {exc}")
print(json.dumps(out))
