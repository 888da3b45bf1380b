"""storage/run_report.py: the run report, over a real DuckDB working database (no Prefect server)."""

from collections.abc import Iterator
from datetime import UTC, datetime

import duckdb
import pytest

from extractors.records import ExtractedDocument, Passage
from storage.records import DocumentRow, document_id
from storage.run_report import RunReport
from storage.schema import migrate
from storage.store import Store

AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[Store]:
    con = duckdb.connect(":memory:")
    migrate(con)
    con.execute("INSERT OR REPLACE INTO dedup_settings VALUES ('threshold', 0.8), ('boilerplate_min_docs', 3)")
    yield Store(con)
    con.close()


def save(store: Store, url: str, paragraphs: list[str], title: str | None = None) -> int:
    doc = DocumentRow(
        doc_id=document_id("page", url), kind="page", url=url, extracted_at=AT,
        extractor="test", extractor_version="1",
        content=ExtractedDocument(text="\n".join(paragraphs), title=title),
    )
    passages = [Passage(i, p) for i, p in enumerate(paragraphs)]
    store.save_document(doc, passages, [(hash(p) & 0x7FFFFFFF, True) for p in paragraphs])
    return doc.doc_id


def test_report_tells_new_from_changed_and_lists_repeated_passages(store: Store) -> None:
    save(store, "https://a.example/kept", ["Unchanged text."], "Kept")
    save(store, "https://a.example/edited", ["Old text."], "Edited")
    report = RunReport.begin(store.con, "run-1", "data/recite.duckdb")
    save(store, "https://a.example/kept", ["Unchanged text."], "Kept")
    save(store, "https://a.example/edited", ["New text.", "Comments are closed."], "Edited")
    save(store, "https://b.example/new", ["Fresh | text with *stars*", "Comments are closed."], "A|B")

    md = report.markdown([("fetch", "ok", 3), ("fetch", "http_4xx", 1)], {"documents": 3})
    assert "1 new, 1 changed" in md
    assert "- **new** page: A\\|B — `https://b.example/new`" in md
    assert "- **changed** page: Edited — `https://a.example/edited`" in md
    assert "Kept" not in md
    assert "- **2×** in 2 documents: Comments are closed." in md  # repeated across documents
    assert "Fresh" not in md  # occurs once: not repeated
    assert "**fetch**: ok 3, http\\_4xx 1" in md
    assert "## New duplicate clusters" in md


def test_report_lists_clusters_that_gained_a_document(store: Store) -> None:
    old = save(store, "https://a.example/story", ["The story."])
    report = RunReport.begin(store.con, "run-2", "db")
    new = save(store, "https://b.example/story-copy", ["The story, again."])
    other = save(store, "https://c.example/other", ["Other."])
    store.con.execute(
        "INSERT INTO clusters VALUES (?, ?, ?, true), (?, ?, ?, false)", [old, old, old, new, old, old]
    )
    md = report.markdown([], {})
    assert f"- cluster `{old}`: 2 documents, canonical `https://a.example/story`" in md
    assert str(other) not in md.split("## New duplicate clusters")[1]


def test_report_without_the_dedup_views(store: Store) -> None:
    """A database from before dedup: no views, the report says so and still lists repeats."""
    store.con.execute("DROP VIEW IF EXISTS corpus")
    store.con.execute("DROP VIEW duplicate_clusters")
    store.con.execute("DROP VIEW repeated_passages")
    report = RunReport.begin(store.con, "run-3", "db")
    save(store, "https://a.example/x", ["Same line.", "Same line."])
    md = report.markdown([], {})
    assert "no `duplicate_clusters` view yet" in md
    assert "- **2×** in 1 document: Same line." in md


def test_boilerplate_is_marked(store: Store) -> None:
    report = RunReport.begin(store.con, "run-4", "db")
    for n in range(3):
        save(store, f"https://a.example/{n}", [f"Story {n}.", "Comments are closed."])
    md = report.markdown([], {})
    assert "- **3×** in 3 documents (site boilerplate): Comments are closed." in md
