"""Each table a record mirrors has exactly the record's columns, in a freshly migrated database.

The records (storage.records, storage.archive) declare the columns; migrations (storage.schema)
create the tables. A field added to a record without a migration fails here.
"""

from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest

from dedup.cluster import ClusterMember
from extractors.records import ExtractedDocument
from storage import bulk
from storage.archive import _STORED, RESPONSE_COLUMNS, ArchivedKey, ArchivedResponse, ArchiveStore
from storage.columns import column_names, columns, from_row
from storage.records import (
    AttemptRow,
    ChangeRow,
    DocumentRow,
    PassageRow,
    SeedRow,
    StepFailure,
    StoredResponse,
    VersionRow,
)
from storage.schema import migrate
from storage.store import Store
from storage.versions import MementoLookup

# DuckDB types a Python column type may be stored as.
SQL_TYPES = {
    int: {"BIGINT", "INTEGER", "SMALLINT", "UBIGINT"},
    str: {"VARCHAR"},
    float: {"DOUBLE"},
    bool: {"BOOLEAN"},
    datetime: {"TIMESTAMP WITH TIME ZONE"},
}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    return con


def table_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]
    ).fetchall()
    assert rows, table
    return dict(rows)


def arrow_types(con: duckdb.DuckDBPyConnection, table: pa.Table) -> dict[str, str]:
    con.register("arrow_batch", table)
    try:
        return {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM arrow_batch").fetchall()}
    finally:
        con.unregister("arrow_batch")


def assert_record_types(con: duckdb.DuckDBPyConnection, record: type, table: str) -> None:
    types = table_types(con, table)
    for column in columns(record):
        if column.type in SQL_TYPES and column.name in types:
            assert types[column.name] in SQL_TYPES[column.type], (table, column)


def test_documents_are_document_rows_and_the_derived_columns(con) -> None:  # type: ignore[no-untyped-def]
    table = bulk.documents_table([])
    assert arrow_types(con, table) == table_types(con, "documents")
    derived = [name for name, _, _ in bulk._DOCUMENT_DERIVED]
    assert list(table.column_names) == [*column_names(DocumentRow), *derived]
    assert_record_types(con, DocumentRow, "documents")


def test_passages_are_passage_rows(con) -> None:  # type: ignore[no-untyped-def]
    table = bulk.passages_table([], [], [])
    assert arrow_types(con, table) == table_types(con, "passages")
    assert table.column_names == list(column_names(PassageRow))
    assert_record_types(con, PassageRow, "passages")


def test_fetches_are_attempt_rows(con) -> None:  # type: ignore[no-untyped-def]
    table = bulk.attempts_table("run", [])
    assert arrow_types(con, table) == table_types(con, "fetches")
    renamed = [bulk._FETCHES_NAMES.get(n, n) for n in column_names(AttemptRow)]
    assert table.column_names == renamed


def test_responses_are_archived_responses_without_the_body(con) -> None:  # type: ignore[no-untyped-def]
    stored = set(table_types(con, "responses"))
    assert stored == {*column_names(ArchivedResponse, skip=("body",)), *_STORED}
    assert set(column_names(ArchivedKey)) <= stored
    assert_record_types(con, ArchivedResponse, "responses")
    # What a batch writes: the current version's response (storage.versions).
    assert set(RESPONSE_COLUMNS) == stored


def test_versions_are_version_rows_without_their_text(con) -> None:  # type: ignore[no-untyped-def]
    assert set(table_types(con, "versions")) == set(column_names(VersionRow, skip=("text",)))
    assert_record_types(con, VersionRow, "versions")
    assert set(RESPONSE_COLUMNS) - {"url"} <= set(column_names(StoredResponse))


def test_version_changes_and_lookups_are_their_records(con) -> None:  # type: ignore[no-untyped-def]
    assert set(table_types(con, "version_changes")) == set(column_names(ChangeRow))
    assert_record_types(con, ChangeRow, "version_changes")
    assert set(table_types(con, "memento_lookups")) == set(column_names(MementoLookup))
    assert_record_types(con, MementoLookup, "memento_lookups")


def test_seeds_are_seed_rows_and_when_seen(con) -> None:  # type: ignore[no-untyped-def]
    assert set(table_types(con, "seeds")) == {*column_names(SeedRow), "first_seen", "last_seen"}
    assert_record_types(con, SeedRow, "seeds")


def test_step_failures_are_step_failures_of_a_run(con) -> None:  # type: ignore[no-untyped-def]
    assert set(table_types(con, "step_failures")) == {
        "run_id", *column_names(StepFailure), "failed_at"
    }
    assert_record_types(con, StepFailure, "step_failures")


def test_clusters_are_cluster_members(con) -> None:  # type: ignore[no-untyped-def]
    assert list(table_types(con, "clusters")) == list(column_names(ClusterMember))
    assert_record_types(con, ClusterMember, "clusters")


def test_a_document_reads_back_as_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    migrate(con)
    doc = DocumentRow(
        doc_id=7, kind="page", url="http://a.test/", extracted_at=datetime(2026, 1, 2, tzinfo=UTC),
        extractor="test", extractor_version="1",
        content=ExtractedDocument(text="one\ntwo", title="T", canonical_url="http://a.test/c"),
    )
    Store(con).save_document(doc, [], [])
    assert ArchiveStore(con).documents([7]) == {7: doc}
    (first_seen, chars, sha) = con.execute(
        "SELECT first_seen, text_chars, content_sha256 FROM documents"
    ).fetchall()[0]
    assert (first_seen, chars, sha) == (doc.extracted_at, 7, doc.content_sha256)


def test_a_row_builds_a_record_by_name_not_position() -> None:
    row = {"fetched_at": datetime(2026, 1, 1, tzinfo=UTC), "url": "u", "final_url": None, "x": 1}
    assert from_row(ArchivedKey, row) == ArchivedKey(
        url="u", final_url=None, fetched_at=row["fetched_at"]
    )
