import duckdb

from storage.schema import MIGRATIONS, migrate


def test_migrations_apply_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    version = migrate(con)
    assert version == max(m.version for m in MIGRATIONS)
    assert migrate(con) == version
    applied = con.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert applied == (len(MIGRATIONS),)


def test_every_table_and_column_has_a_comment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    migrate(con)
    tables = con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'"
    ).fetchall()
    assert {"seeds", "citations", "urls", "fetches", "documents", "passages", "runs"} <= {
        t for t, _ in tables
    }
    assert all(comment for _, comment in tables), tables
    missing = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal AND (comment IS NULL OR comment = '')"
    ).fetchall()
    assert missing == []


def test_contract_columns_exist(tmp_path) -> None:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    migrate(con)

    def columns(table: str) -> set[str]:
        rows = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table]
        ).fetchall()
        return {r[0] for r in rows}

    assert {"doc_id", "kind", "url", "title", "author", "published", "sitename", "language",
            "text", "content_sha256", "extracted_at"} <= columns("documents")
    assert {"url", "fetched_at", "status_code", "final_url", "outcome", "error", "bytes",
            "elapsed_ms"} <= columns("fetches")
    assert {"doc_id", "ordinal", "text", "norm_hash"} <= columns("passages")
