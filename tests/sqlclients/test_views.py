"""The names SQL clients rely on: tables and views, each with its meaning and column comments."""

from pathlib import Path

import duckdb

from storage.schema import migrate

# Each name's one-row meaning, as its COMMENT must state it.
CONTRACT = {
    "corpus": "One row per cluster's canonical document and per unclustered one",
    "documents": "One row per extracted document",
    "near_duplicates": "One row per verified near-duplicate pair of documents",
    "duplicate_clusters": "One row per document in a near-duplicate cluster",
    "repeated_passages": "One row per normalized passage occurring more than once",
    "fetch_failures": "One row per URL whose latest fetch failed",
    "citations_graph": "One row per (seed, cited URL) edge",
    "runs": "One row per run of the pipeline",
    "run_summary": "One row per run",
    "run_counts": "One row per (run, stage, reason)",
    "quotes": "One row per quotation found in a seed",
    "quote_checks": "One row per (quotation in a seed, URL the seed cites)",
    "citation_support": "One row per citation of a seed",
    "quote_found_elsewhere": "One row per quotation absent from, or unavailable on",
    "passage_origins": "One row per passage repeated across pages",
}


def relations(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal "
        "UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"
    ).fetchall()
    return {str(name): str(comment or "") for name, comment in rows}


def test_contract_names_exist_with_their_one_row_meaning(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    migrate(con)
    found = relations(con)
    for name, meaning in CONTRACT.items():
        assert name in found, name
        assert meaning.lower() in found[name].lower().replace("the deduplicated corpus: ", ""), (
            name, found[name])


def test_every_table_view_and_column_has_a_comment(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    migrate(con)
    found = relations(con)
    assert [name for name, comment in found.items() if "one row per" not in comment.lower()] == []
    user = set(found)
    missing = [
        (t, c) for t, c, comment in con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal"
        ).fetchall()
        if t in user and not comment
    ]
    assert missing == []


def test_run_summary_counts_stages_and_reasons(corpus_db: Path) -> None:
    with duckdb.connect(str(corpus_db), read_only=True) as con:
        rows = con.execute(
            "SELECT status, seconds, seeds, citations, urls_fetched, fetched_ok, fetch_failed, "
            "documents_changed, clusters, problems, counts FROM run_summary ORDER BY started_at"
        ).fetchall()
    assert len(rows) == 2
    first, second = rows
    status, seconds, seeds, citations, fetched, ok, failed, changed, clusters, problems, counts = first
    assert status == "completed" and seconds > 0
    assert (seeds, citations, fetched, ok, failed) == (5, 14, 14, 12, 2)
    assert changed > 0 and clusters == 1
    assert problems == "extract:no_main_text=1, fetch:http_4xx=1, fetch:unsupported_type=1"
    assert "fetch:ok=12" in counts and "seeds:ok=5" in counts
    # The second night: only /live/... changed (a new version); /retracted/... is gone.
    assert second[7] == 1
    assert second[4:7] == (14, 11, 3)
