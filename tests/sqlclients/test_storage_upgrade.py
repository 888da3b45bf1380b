"""A database the release before issue 14 wrote, in DuckDB 2.0's own format, is converted.

The old file is made from a real run's database: every table filled, copied into a file
in DuckDB 2.0's default storage format (69) and with its schema put back to version 30
(before step_failures), as that release left it. The next run's open converts it to the
1.1 format; every table must then hold the same rows, and the duckdb CLI 1.5 opens it.
"""

from pathlib import Path

import duckdb
import pytest

from storage.body_files import archive_dir
from storage.database import STORAGE_TAG, WorkingDatabase, storage_tag
from storage.schema import MIGRATIONS
from storage.schema_publish import PUBLISH_TABLES
from tests.sqlclients.real_clients import ClientUnavailable, as_text, duckdb_cli


def tag(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return storage_tag(con)


# What migration 70 (page versions) added, undone to make the old file.
VERSION_TABLES = ("versions", "version_texts", "version_changes", "memento_lookups")
VERSION_VIEWS = ("page_versions", "page_changes", "link_rot", "cited_versions")
VERSION_COLUMNS = {
    "urls": ("body_sha256", "current_version", "last_ok_at", "consecutive_failures",
             "consecutive_gone", "failing_since", "is_gone"),
    "fetches": ("body_sha256",),
    "citations": ("cited_version",),
}


def every_table(db: Path, without: dict[str, tuple[str, ...]] | None = None) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, but the columns `without` names."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        out = {}
        for t in tables:
            skip = ", ".join((without or {}).get(t, ()))
            star = f"* EXCLUDE ({skip})" if skip else "*"
            out[t] = sorted(con.execute(f"SELECT {star} FROM {t}").fetchall(), key=repr)
        return out


def old_release_file(source: Path, target: Path) -> Path:
    """`source` as the release before issue 14 left it: DuckDB 2.0 format, schema 30,
    bodies inside `responses.body_compressed`."""
    target.parent.mkdir(parents=True)
    bodies = f"{archive_dir(source)}/*.parquet"
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
        con.execute(f"ATTACH '{target}' AS old")  # no STORAGE_VERSION: DuckDB 2.0's own
        con.execute("COPY FROM DATABASE src TO old")
        con.execute("ALTER TABLE old.responses ADD COLUMN body_compressed BLOB")
        con.execute(
            "UPDATE old.responses r SET body_compressed = b.body_compressed "
            f"FROM read_parquet('{bodies}', filename = true) b "
            "WHERE b.url = r.url AND b.filename LIKE '%/' || r.archive_file"
        )
        con.execute("ALTER TABLE old.responses DROP COLUMN archive_file")
        for view in VERSION_VIEWS:
            con.execute(f"DROP VIEW old.{view}")
        publishing = tuple(t.name for t in PUBLISH_TABLES)  # migration 90
        for table in ("step_failures", "archive_files", *VERSION_TABLES, *publishing):
            con.execute(f"DROP TABLE old.{table}")
        for table, names in VERSION_COLUMNS.items():
            for name in names:
                con.execute(f"ALTER TABLE old.{table} DROP COLUMN {name}")
        con.execute("DELETE FROM old.schema_migrations WHERE version >= 40")
    return target


def bodies(db: Path) -> list[tuple[object, ...]]:
    """(url, body) of every response, wherever the layout keeps the body."""
    with duckdb.connect(str(db), read_only=True) as con:
        columns = {c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'responses'").fetchall()}
        if "body_compressed" in columns:
            return sorted(con.execute("SELECT url, body_compressed FROM responses").fetchall())
        return sorted(con.execute(
            "SELECT r.url, b.body_compressed FROM responses r JOIN "
            f"read_parquet('{archive_dir(db)}/*.parquet', filename = true) b "
            "ON b.url = r.url AND b.filename LIKE '%/' || r.archive_file").fetchall())


def test_old_format_database_is_converted_with_every_row(corpus_db: Path, tmp_path: Path) -> None:
    db = old_release_file(corpus_db, tmp_path / "db" / "recite.duckdb")
    assert tag(db) == "v2.0.0+"
    before = every_table(db)
    assert all(before[t] for t in ("documents", "responses", "doc_bands", "passage_pairs", "runs"))
    old_bodies = bodies(db)
    assert len(old_bodies) == len(before["responses"]) and all(b for _, b in old_bodies)

    with WorkingDatabase(db) as work:
        work.publish()
    assert tag(db) == STORAGE_TAG
    after = every_table(db, VERSION_COLUMNS)
    # Migrations 40 and 50 ran after the conversion: step_failures, and bodies moved out;
    # 70 made each fetched page's stored response its version 1.
    assert after.pop("step_failures") == []
    versions = after.pop("versions")
    assert len(versions) == len(before["responses"]) - 1  # /empty-article has no text
    assert {row[1] for row in versions} == {1}
    assert after.pop("version_texts")
    for table in ("version_changes", "memento_lookups"):
        assert after.pop(table) == []
    # Migration 90: the state this publish named; migrations mark no keys (a schema
    # change makes the next run copy, storage/catch_up.py).
    assert len(after.pop("publish_state")) == 1
    for table in PUBLISH_TABLES[1:]:
        assert after.pop(table.name) == []
    assert sorted(v for v, *_ in after.pop("schema_migrations")) == sorted([
        v for v, *_ in before.pop("schema_migrations")] + [m.version for m in MIGRATIONS if m.version >= 40])
    assert [(n, r) for n, _, r, _, _ in after.pop("archive_files")] == [
        (archive_file, len(old_bodies))
        for archive_file in {row[-1] for row in after["responses"]}]
    assert bodies(db) == old_bodies
    meta = [row[:-1] for row in after.pop("responses")]  # archive_file is new
    assert meta == [tuple(v for i, v in enumerate(row) if i != 10) for row in before.pop("responses")]
    assert after == before

    try:
        cli = duckdb_cli()
    except ClientUnavailable as exc:
        pytest.skip(f"duckdb-cli unavailable: {exc}")
    rows = cli.run(db, [as_text("SELECT count(*) FROM documents")])[0]
    assert rows == [[str(len(before["documents"]))]]


def test_a_killed_conversion_leaves_the_file_whole(tmp_path: Path, corpus_db: Path) -> None:
    db = old_release_file(corpus_db, tmp_path / "db" / "recite.duckdb")
    work = db.with_name(db.name + ".work")
    work.write_bytes(db.read_bytes())
    leftover = work.with_name(work.name + ".convert")
    leftover.write_bytes(b"half a copy")  # what a conversion killed midway leaves
    before = every_table(db)
    with WorkingDatabase(db) as wdb:
        wdb.publish()
    assert not leftover.exists() and tag(db) == STORAGE_TAG
    assert every_table(db)["documents"] == before["documents"]
