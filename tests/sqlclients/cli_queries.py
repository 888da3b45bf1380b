"""Run a JSON list of queries through the duckdb CLI binary, each as its own `-readonly` session.

Usage: python cli_queries.py DUCKDB_BINARY DB QUERIES.json. The first query is a SET
that every later session starts with. Prints a JSON list: per query its rows (the CLI's
`-json` output, values in column order), or the error the CLI printed.
"""

import json
import subprocess
import sys
from pathlib import Path

binary, db, batch = sys.argv[1:4]
setup, *queries = json.loads(Path(batch).read_text())
out: list[object] = [[]]
for sql in queries:
    done = subprocess.run(
        [binary, "-readonly", "-bail", "-json", db], input=f"{setup};\n{sql};\n",
        capture_output=True, text=True, timeout=120,
    )
    if done.returncode != 0 or done.stderr.strip():
        out.append(f"duckdb CLI exited {done.returncode}: {done.stderr.strip()[:1000]}")
        continue
    text = done.stdout.strip()
    rows = json.loads(text) if text else []
    out.append([list(row.values()) for row in rows])
print(json.dumps(out))
