"""Publishing by rename, and the next run's catch-up of the file published before (issue 14).

    <db>         the published file, opened by clients        state S(n)
    <db>.stale   the file published before it (a hard link)   state S(n-1)
    <db>.work    the writer's file during a run               renamed to <db> when published

Publishing renames the finished working file over `<db>`, keeping the replaced inode as
`<db>.stale`: a checkpoint and two renames, whatever the size of the store. The next run
needs a working file holding S(n) again. Rather than copying `<db>` (what every store
costs), it opens `<db>.stale` and, in one transaction, brings it to S(n) with `<db>`
attached read-only:

* a table synced by key (SYNC) has the rows whose keys run n marked (the changed_* tables,
  storage/changes.py) deleted and copied again from `<db>`;
* an append-only log (fetches, memento_lookups) gets the rows of the runs it lacks;
* every other table, small by nature (runs, seeds, settings), is copied whole, and so is
  a table a run rewrote whole (changed_tables).

So the catch-up costs what the night changed. It then checks the result against `<db>`
(row counts of every table; every row when the file is small or RECITE_CATCH_UP_STRICT is
set, as the test suite does) and renames `<db>.stale` to `<db>.work`. When it cannot
(no stale file, a client still has it open, a client wrote into one of the two files
since it was published, the two states do not follow each other, a schema migration in
between) or the check finds a difference, the run copies `<db>` as before: slower,
never wrong. Any DuckDB error during the catch-up (say, an older writer that refuses a
key deleted and inserted again in one transaction) makes the run copy too.
"""

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from storage.changes import Kind
from storage.files import sql_literal, wal_path
from storage.schema_publish import CHANGED_KINDS, PUBLISH_STATE

# A file smaller than this is checked row by row after a catch-up, not by counts only.
FULL_CHECK_BYTES = 64 * 1024 * 1024
STRICT_ENV = "RECITE_CATCH_UP_STRICT"


@dataclass(frozen=True, slots=True)
class ByKeys:
    """Rows whose key column holds a marked key; a row goes when any of its columns does."""

    columns: tuple[tuple[str, Kind], ...]


@dataclass(frozen=True, slots=True)
class NewRuns:
    """An append-only log: the rows of runs the stale file does not know."""

    column: str = "run_id"


@dataclass(frozen=True, slots=True)
class Where:
    """Rows matching a predicate over the published file (`pub`)."""

    predicate: str


Sync = ByKeys | NewRuns | Where

_DOC = ByKeys((("doc_id", "docs"),))
_URL = ByKeys((("url", "urls"),))
_PASSAGE = ByKeys((("passage_hash", "passages"),))
# Tables that grow with the corpus, and how their changed rows are found. The rest are
# copied whole. tests/storage/test_catch_up.py checks every table is one or the other.
SYNC: dict[str, Sync] = {
    "citations": ByKeys((("doc_id", "docs"), ("url", "urls"))),
    "urls": _URL,
    "fetches": NewRuns(),
    "responses": _URL,
    "documents": _DOC,
    "passages": _DOC,
    "doc_signatures": _DOC,
    "doc_bands": _DOC,
    "duplicate_pairs": ByKeys((("doc_a", "docs"), ("doc_b", "docs"))),
    "clusters": _DOC,
    "passage_index": _PASSAGE,
    "passage_bands": _PASSAGE,
    "passage_pairs": ByKeys((("hash_a", "passages"), ("hash_b", "passages"))),
    "versions": _URL,
    # Texts are shared by content: those of the changed URLs' versions.
    "version_texts": Where(
        "content_sha256 IN (SELECT content_sha256 FROM pub.versions "
        "WHERE url IN (SELECT url FROM pub.changed_urls))"
    ),
    "version_changes": _URL,
    "memento_lookups": NewRuns(),
    "quotes": ByKeys((("seed_doc_id", "docs"),)),
    "quote_scans": ByKeys((("seed_doc_id", "docs"),)),
    "quote_results": ByKeys((("seed_doc_id", "docs"), ("url", "urls"))),
    "quote_grams": ByKeys((("quote_key", "quotes"),)),
    "quote_index": _DOC,
    "quote_index_docs": _DOC,
    "quote_sightings": ByKeys((("quote_key", "quotes"), ("doc_id", "docs"))),
}
# Small by nature (a row per run, seed file or setting), or emptied by every run: copied
# whole. Any table in neither set is copied whole too, but the test names them all.
WHOLE = frozenset({
    "seeds", "runs", "run_counts", "dedup_settings", "step_failures", "archive_files",
    "cluster_dirty", "cluster_state", "schema_migrations",
})
# The bookkeeping itself: reset after the catch-up, never copied.
OWN = frozenset({PUBLISH_STATE.name, *(t.name for t in CHANGED_KINDS.values())})


class CatchUpMismatch(Exception):
    """The caught-up file differs from the published one (a write left a key unmarked)."""


@dataclass(frozen=True, slots=True)
class Preparation:
    """How the run's working file was made: 'resumed', 'new', 'caught_up' or 'copied'."""

    how: Literal["new", "resumed", "caught_up", "copied"]
    reason: str = ""
    seconds: float = 0.0


def stale_path(db_path: Path) -> Path:
    """The file published before `db_path`'s current one, kept for the next catch-up."""
    return db_path.with_name(db_path.name + ".stale")


def strict() -> bool:
    """Whether a catch-up that finds a difference fails the run (tests) or falls back."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


def catch_up(db_path: Path, work_path: Path, memory_limit: str | None = None) -> Preparation:
    """Make `work_path` from `<db>.stale` and the published file's marks; else say why not.

    On success the stale file has become the working file. Raises CatchUpMismatch only
    when strict(); otherwise a difference is a reason to copy instead.
    """
    stale = stale_path(db_path)
    if not stale.exists():
        return Preparation("copied", "no file published before the last one")
    if _recorded(stale) != _fingerprint(stale) or _recorded(db_path) != _fingerprint(db_path):
        # A read-write client wrote into one of them while it was the published file.
        _discard(stale)
        return Preparation("copied", "a published file was changed since it was published")
    started = time.monotonic()
    config: dict[str, str | bool | int | float | list[str]] = {}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    try:
        con = duckdb.connect(str(stale), config=config)
    except duckdb.Error as exc:
        # Most often a client that opened <db> before the last publish still holds it.
        return Preparation("copied", f"cannot open {stale.name}: {exc}")
    try:
        reason = _sync(con, db_path)
    except CatchUpMismatch as exc:
        if strict():
            raise
        reason = f"the catch-up differed: {exc}"
    except duckdb.Error as exc:
        reason = f"the catch-up failed: {exc}"
    finally:
        con.close()
    if reason:
        # Of no use any more; its disk is better left to the copy.
        _discard(stale)
        return Preparation("copied", reason)
    # The WAL first: a file renamed without it would be the state before the catch-up.
    if wal_path(stale).exists():
        os.replace(wal_path(stale), wal_path(work_path))
    os.replace(stale, work_path)
    _stamp_path(stale).unlink(missing_ok=True)
    return Preparation("caught_up", seconds=time.monotonic() - started)


def _discard(stale: Path) -> None:
    for path in (stale, wal_path(stale), _stamp_path(stale)):
        with contextlib.suppress(OSError):
            path.unlink()


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".published")


def _fingerprint(path: Path) -> str:
    """Inode, size and modification time: what any write to the file changes."""
    st = path.stat()
    return f"{st.st_ino} {st.st_size} {st.st_mtime_ns}"


def _recorded(path: Path) -> str:
    try:
        return _stamp_path(path).read_text()
    except OSError:
        return ""


def record_published(db_path: Path) -> None:
    """Note the fingerprint of the file just published, to know later it was not written."""
    stamp = _stamp_path(db_path)
    tmp = stamp.with_name(stamp.name + ".tmp")
    # Without it the next catch-up copies instead: failing to write it fails nothing.
    with contextlib.suppress(OSError):
        tmp.write_text(_fingerprint(db_path))
        os.replace(tmp, stamp)


def _sync(con: duckdb.DuckDBPyConnection, db_path: Path) -> str:
    """Bring the open stale file to the published state; '' when done, else why not."""
    con.execute(f"ATTACH {sql_literal(str(db_path))} AS pub (READ_ONLY)")
    try:
        reason = _unrelated(con)
        if reason:
            return reason
        tables = _tables(con)
        con.execute("BEGIN TRANSACTION")
        try:
            _apply(con, tables)
            reset_marks(con, "pub")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        _check(con, tables, full=strict() or db_path.stat().st_size < FULL_CHECK_BYTES)
        # Left in the WAL: the run's first checkpoint writes them with its own changes, so
        # the row groups both touch (the last ones, appended to) are rewritten once.
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
        return ""
    finally:
        con.execute("DETACH pub")


def _unrelated(con: duckdb.DuckDBPyConnection) -> str:
    """Why the stale file cannot be caught up to the published one; '' if it can."""
    versions = "SELECT list(version ORDER BY version) FROM {}.schema_migrations"
    ours, theirs = (con.execute(versions.format(db)).fetchall()[0][0] for db in ("main", "pub"))
    if ours != theirs:
        return "a schema migration since (the schema versions differ)"
    if 90 not in (ours or []):
        return "a database from before incremental publishing"
    (mine,) = con.execute("SELECT max(state_id) FROM main.publish_state").fetchall()[0]
    (base,) = con.execute("SELECT max(based_on) FROM pub.publish_state").fetchall()[0]
    if mine is None or mine != base:
        return "the published file was not written from it (the states do not follow)"
    return ""


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows if r[0] not in OWN]


def _apply(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE catch_up_runs AS "
        "SELECT run_id FROM pub.runs EXCEPT SELECT run_id FROM main.runs"
    )
    whole = {str(r[0]) for r in con.execute("SELECT table_name FROM pub.changed_tables").fetchall()}
    for table in tables:
        predicate = None if table in whole else _predicate(SYNC.get(table))
        if predicate is None:
            con.execute(f'DELETE FROM main."{table}"')
            con.execute(f'INSERT INTO main."{table}" SELECT * FROM pub."{table}"')
            continue
        con.execute(f'DELETE FROM main."{table}" WHERE {predicate}')
        con.execute(f'INSERT INTO main."{table}" SELECT * FROM pub."{table}" WHERE {predicate}')
    con.execute("DROP TABLE catch_up_runs")


def _predicate(sync: Sync | None) -> str | None:
    if sync is None:
        return None
    if isinstance(sync, ByKeys):
        table = {kind: CHANGED_KINDS[kind] for _, kind in sync.columns}
        return " OR ".join(
            f"{column} IN (SELECT {table[kind].columns[0][0]} FROM pub.{table[kind].name})"
            for column, kind in sync.columns
        )
    if isinstance(sync, NewRuns):
        return f"{sync.column} IN (SELECT run_id FROM catch_up_runs)"
    return sync.predicate


def reset_marks(con: duckdb.DuckDBPyConnection, source: str = "main") -> None:
    """Start the marks afresh, from the published state `source` holds (`main`: a copy)."""
    for table in CHANGED_KINDS.values():
        con.execute(f"DELETE FROM main.{table.name}")
    rows = con.execute(f"SELECT state_id, published_at FROM {source}.publish_state").fetchall()
    state, at = rows[0] if rows else (None, None)
    con.execute("DELETE FROM main.publish_state")
    con.execute("INSERT INTO main.publish_state VALUES (?, ?, ?)", [state, state, at])


def stamp(con: duckdb.DuckDBPyConnection, state_id: str) -> None:
    """Name the state about to be published (its `based_on` stays what the run started from)."""
    rows = con.execute("SELECT based_on FROM publish_state").fetchall()
    based_on = rows[0][0] if rows else None
    con.execute("DELETE FROM publish_state")
    con.execute("INSERT INTO publish_state VALUES (?, ?, now())", [state_id, based_on])


def _check(con: duckdb.DuckDBPyConnection, tables: list[str], full: bool) -> None:
    """Raise CatchUpMismatch unless every table holds what the published one holds."""
    for table in tables:
        if full:
            for a, b in (("main", "pub"), ("pub", "main")):
                (extra,) = con.execute(
                    f'SELECT count(*) FROM (SELECT * FROM {a}."{table}" '
                    f'EXCEPT ALL SELECT * FROM {b}."{table}")'
                ).fetchall()[0]
                if extra:
                    raise CatchUpMismatch(f"{table}: {extra} rows in {a} not in {b}")
            continue
        counts = [con.execute(f'SELECT count(*) FROM {db}."{table}"').fetchall()[0][0]
                  for db in ("main", "pub")]
        if counts[0] != counts[1]:
            raise CatchUpMismatch(f"{table}: {counts[0]} rows, published {counts[1]}")


def keep_as_stale(db_path: Path) -> None:
    """Keep the published file's inode as `<db>.stale` (a hard link), before it is replaced."""
    stale = stale_path(db_path)
    _discard(stale)
    if not db_path.exists():
        return
    tmp = stale.with_name(stale.name + ".tmp")
    with contextlib.suppress(OSError):
        tmp.unlink()
    # Without hard links (some network file systems) the next run copies instead.
    with contextlib.suppress(OSError):
        os.link(db_path, tmp)
        os.replace(tmp, stale)
        os.replace(_stamp_path(db_path), _stamp_path(stale))
