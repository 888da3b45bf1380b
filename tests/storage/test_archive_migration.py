"""Migration 30: an archive written with zlib before it still reads back, beside new zstd rows."""

import zlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from extractors.records import ExtractedDocument
from fetching.records import Attempt, FetchResult, Outcome
from pipeline.versions import Observed, record_versions
from storage.archive import ArchiveStore
from storage.bulk import archived_response
from storage.records import DocumentRow, document_id
from storage.schema import MIGRATIONS, migrate
from storage.store import Store
from storage.versions import VersionStore

OLD_URL = "https://example.org/old"
NEW_URL = "https://example.org/new"
OLD_BODY = "<html><body><p>Archivé avant la migration.</p></body></html>".encode() * 20
NEW_BODY = b"<html><body><p>Fetched after the migration.</p></body></html>" * 20
FETCHED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def version_20_database(path: Path) -> None:
    """A database as recite left it at schema version 20, with one zlib-archived response."""
    with duckdb.connect(str(path)) as con:
        assert migrate(con, tuple(m for m in MIGRATIONS if m.version <= 20)) == 20
        con.execute(
            "INSERT INTO responses (url, final_url, fetched_at, status_code, headers, "
            "content_type, charset, body_sha256, body_bytes, body_zlib) "
            "VALUES (?, NULL, ?, 200, [{'name': 'content-type', 'value': 'text/html'}], "
            "'text/html', 'utf-8', 'sha', ?, ?)",
            [OLD_URL, FETCHED, len(OLD_BODY), zlib.compress(OLD_BODY, 1)],
        )


def schema(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    """Every column of every table as SQL clients see it, plus each table's comment."""
    columns = con.execute(
        "SELECT table_name, column_index, column_name, data_type, column_default, is_nullable, "
        "comment FROM duckdb_columns() WHERE NOT internal ORDER BY table_name, column_index"
    ).fetchall()
    tables = con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal ORDER BY table_name"
    ).fetchall()
    constraints = con.execute(
        "SELECT table_name, constraint_type, constraint_column_names FROM duckdb_constraints() "
        "ORDER BY ALL"
    ).fetchall()
    return [*columns, *tables, *constraints]


def test_old_zlib_rows_read_back_after_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    version_20_database(path)
    with duckdb.connect(str(path)) as con:
        assert migrate(con) == max(m.version for m in MIGRATIONS)
        assert con.execute("SELECT body_codec FROM responses").fetchall() == [("zlib",)]
        # The body left the database for the archive folder, unchanged (still zlib).
        (name,) = con.execute("SELECT archive_file FROM responses").fetchall()[0]
        moved = con.execute("SELECT body_compressed FROM read_parquet(?)",
                            [str(tmp_path / "old.duckdb.archive" / name)]).fetchall()
        assert moved == [(zlib.compress(OLD_BODY, 1),)]
        archive = ArchiveStore(con)
        old = archive.responses([OLD_URL])[OLD_URL]
        assert old.body == OLD_BODY
        assert old.headers == (("content-type", "text/html"),)
        assert [c.response.body for c in archive.captures()] == [OLD_BODY]


def test_new_rows_are_zstd_beside_old_zlib_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    version_20_database(path)
    with duckdb.connect(str(path)) as con:
        migrate(con)
        attempt = Attempt(NEW_URL, 1, FETCHED, Outcome.OK, status_code=200)
        result = FetchResult(
            NEW_URL, Outcome.OK, (attempt,), status_code=200, body=NEW_BODY,
            content_type="text/html", charset="utf-8",
        )
        con.execute("INSERT INTO urls (url, host, fetch_count) VALUES (?, 'example.org', 0)",
                    [NEW_URL])
        Store(con).save_fetches("run", [result])
        doc = DocumentRow(document_id("page", NEW_URL), "page", NEW_URL, FETCHED, "test", "1",
                          ExtractedDocument("Fetched after the migration."))
        # A new version's body is archived with the current codec.
        record_versions(VersionStore(con), "run", [Observed(NEW_URL, doc,
                        archived_response(result))], [], FETCHED)
        codecs = con.execute("SELECT url, body_codec FROM responses ORDER BY url").fetchall()
        assert codecs == [(NEW_URL, "zstd"), (OLD_URL, "zlib")]
        found = ArchiveStore(con).responses([OLD_URL, NEW_URL])
        assert {u: r.body for u, r in found.items()} == {OLD_URL: OLD_BODY, NEW_URL: NEW_BODY}


def test_writing_without_a_codec_fails(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        migrate(con)
        with pytest.raises(duckdb.ConstraintException, match="body_codec"):
            con.execute("INSERT INTO responses (url, archive_file) VALUES ('u', 'x')")


def test_fresh_and_migrated_databases_are_identical(tmp_path: Path) -> None:
    version_20_database(tmp_path / "old.duckdb")
    with duckdb.connect(str(tmp_path / "old.duckdb")) as old, \
            duckdb.connect(str(tmp_path / "fresh.duckdb")) as fresh:
        migrate(old)
        migrate(fresh)
        assert schema(old) == schema(fresh)
        responses = [r for r in schema(fresh) if r[0] == "responses" and len(r) == 7]
        # Migration 50 moved bodies to the archive folder (storage/body_files.py).
        assert [r[2] for r in responses][-3:] == ["body_bytes", "body_codec", "archive_file"]
        assert all(r[6] for r in responses)  # every column keeps a comment
