"""Tables of incremental publishing (migration 90): which published state a file holds,
and the keys the run changed since the state it started from (issue 14).

Publishing renames the working file over `--db` instead of copying it. The next run then
brings the file published before that one up to date (storage/catch_up.py): per table, it
replaces the rows whose keys the last run marked here, reading them from `--db`, so the
cost is what the night changed, not what is stored.
"""

from storage.schema_parts import Table

PUBLISH_STATE = Table(
    "publish_state",
    "One row per database file (so one row): which published state it holds and which one "
    "its writer started from (the writer's bookkeeping for incremental publishing, "
    "storage/catch_up.py).",
    (
        ("state_id", "VARCHAR", "A new UUID each time a file is published; NULL before."),
        ("based_on", "VARCHAR", "state_id of the published file the run that wrote this one "
         "started from; the changed_* tables hold what it changed since then."),
        ("published_at", "TIMESTAMPTZ", "When this state was published."),
    ),
)


def _changed(name: str, column: str, sqltype: str, what: str) -> Table:
    return Table(
        f"changed_{name}",
        f"One row per {what} (repeats allowed) the runs since publish_state.based_on wrote, "
        "for the next run's incremental publishing; not for queries.",
        ((column, sqltype, f"The key: {what}."),),
    )


CHANGED_DOCS = _changed("docs", "doc_id", "BIGINT", "documents.doc_id")
CHANGED_URLS = _changed("urls", "url", "VARCHAR", "urls.url")
CHANGED_PASSAGES = _changed("passages", "passage_hash", "BIGINT", "passage_index.passage_hash")
CHANGED_QUOTES = _changed("quotes", "quote_key", "BIGINT", "quotes.quote_key")
CHANGED_TABLES = _changed("tables", "table_name", "VARCHAR", "table rewritten as a whole")

# The kinds of key a write marks, and the table holding each (storage/changes.py).
CHANGED_KINDS = {
    "docs": CHANGED_DOCS, "urls": CHANGED_URLS, "passages": CHANGED_PASSAGES,
    "quotes": CHANGED_QUOTES, "tables": CHANGED_TABLES,
}

PUBLISH_TABLES = (PUBLISH_STATE, *CHANGED_KINDS.values())
