"""A SQL client in another process holding a database file open, driven line by line.

It connects read-only or read-write (DuckDB's default, as DBeaver does), then obeys
commands on stdin, one JSON reply per line on stdout:

    query SQL    run SQL now, reply with its rows
    watch SQL    keep running SQL in a loop (a client querying during a run)
    stop         stop watching, reply with every distinct result seen and the count
"""

import json
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

_SCRIPT = r"""
import json, sys, threading, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print(json.dumps("ready"), flush=True)
watching, seen, loops = None, [], [0]

def watch(sql, stop):
    cur = con.cursor()
    while not stop.is_set():
        rows = [list(r) for r in cur.execute(sql).fetchall()]
        if rows not in seen:
            seen.append(rows)
        loops[0] += 1

for line in sys.stdin:
    verb, _, sql = line.rstrip("\n").partition(" ")
    if verb == "query":
        print(json.dumps([list(r) for r in con.execute(sql).fetchall()], default=str), flush=True)
    elif verb == "watch":
        stop = threading.Event()
        watching = (threading.Thread(target=watch, args=(sql, stop)), stop)
        watching[0].start()
        print(json.dumps("watching"), flush=True)
    elif verb == "stop":
        watching[1].set(); watching[0].join()
        print(json.dumps({"seen": seen, "loops": loops[0]}, default=str), flush=True)
con.close()
"""


class Holder:
    """A client process holding `path` open for the duration of the block."""

    def __init__(self, path: Path, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> "Holder":
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _SCRIPT, str(self.path), "ro" if self.read_only else "rw"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self._reply() == "ready"
        return self

    def _reply(self) -> Any:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        assert line, f"holder exited with {self._proc.poll()}"
        return json.loads(line)

    def _send(self, line: str) -> Any:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        return self._reply()

    def query(self, sql: str) -> list[list[Any]]:
        """Rows of `sql` on the holder's connection."""
        rows: list[list[Any]] = self._send("query " + sql)
        return rows

    def watch(self, sql: str) -> None:
        """Start running `sql` over and over."""
        assert self._send("watch " + sql) == "watching"

    def stop(self) -> tuple[list[list[list[Any]]], int]:
        """Stop watching: every distinct result seen, and how many times the query ran."""
        reply = self._send("stop")
        return reply["seen"], reply["loops"]

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.close()  # the holder closes its connection and exits
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if kind is None:
            assert self._proc.returncode == 0, self._proc.returncode
