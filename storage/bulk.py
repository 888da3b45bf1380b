"""Arrow tables of a batch's rows, so each table is written with one statement.

DuckDB runs a parameterized statement per row at about 10 µs to 1 ms (more with large
values); a registered Arrow table goes in at millions of rows per second. Each function
here turns records into the columns of one table, named as the record names them
(storage.columns); the INSERTs name the columns, so their order is free.
"""

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import duckdb
import pyarrow as pa

from extractors.records import Passage
from fetching.records import FetchResult, Outcome
from storage import columns
from storage.archive import ArchivedResponse
from storage.records import AttemptRow, DocumentRow, PassageRow

_TS = columns.TIMESTAMP
_HEADERS = pa.list_(pa.struct([("name", pa.string()), ("value", pa.string())]))


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[str]:
    """Make `table` queryable as `name` for the block."""
    con.register(name, table)
    try:
        yield name
    finally:
        con.unregister(name)


# `fetches` was made before Attempt named the time an attempt started.
_FETCHES_NAMES = {"started_at": "fetched_at"}


def attempts_table(run_id: str, results: Sequence[FetchResult]) -> pa.Table:
    """One row per attempt of every result (the `fetches` table)."""
    rows = [
        AttemptRow(run_id=run_id, attempt=a, is_final=i == len(r.attempts),
                   body_sha256=received_sha256(r) if i == len(r.attempts) else None)
        for r in results for i, a in enumerate(r.attempts, 1)
    ]
    table = columns.arrow_table(AttemptRow, rows, {
        "attempt": pa.int32(), "status_code": pa.int32(),
        "redirect_chain": pa.list_(pa.string()),
    })
    return table.rename_columns([_FETCHES_NAMES.get(n, n) for n in table.column_names])


def received_sha256(result: FetchResult) -> str | None:
    """SHA-256 of the body the result's response carried (None for a 304 or no body)."""
    if result.outcome is Outcome.OK or (
        result.outcome is Outcome.NOT_MODIFIED and result.status_code == 200
    ):
        return result.validators.body_sha256
    return None


def is_gone(result: FetchResult) -> bool:
    """True for an answer that says the page is gone: 404, 410, or no such host (issue 16).

    Only these count towards link rot; 5xx, timeouts and resets are transient and never
    remove or hide a version.
    """
    if result.outcome is Outcome.DNS_ERROR:
        return True
    return result.outcome is Outcome.HTTP_4XX and result.status_code in (404, 410)


def url_states_table(results: Sequence[FetchResult]) -> pa.Table:
    """Each result's URL state after the fetch (the `urls` columns a fetch updates)."""
    keep = [r.outcome in (Outcome.OK, Outcome.NOT_MODIFIED) for r in results]
    return pa.table({
        "url": pa.array([r.url for r in results], pa.string()),
        "started": pa.array([r.attempts[0].started_at if r.attempts else None for r in results],
                            _TS),
        "outcome": pa.array([str(r.outcome) for r in results], pa.string()),
        "status_code": pa.array([r.status_code for r in results], pa.int32()),
        "error": pa.array([r.error for r in results], pa.string()),
        "final_url": pa.array([r.final_url for r in results], pa.string()),
        "keep_validators": pa.array(keep, pa.bool_()),
        "etag": pa.array([r.validators.etag for r in results], pa.string()),
        "last_modified": pa.array([r.validators.last_modified for r in results], pa.string()),
        "body_sha256": pa.array([r.validators.body_sha256 for r in results], pa.string()),
        "gone": pa.array([is_gone(r) for r in results], pa.bool_()),
    })


def archived_response(result: FetchResult) -> ArchivedResponse:
    """The response an ok result with a body got, as the archive keeps it."""
    if result.body is None or result.status_code is None or not result.attempts:
        raise ValueError(f"{result.url}: an ok result without a response")
    return ArchivedResponse(
        url=result.url, final_url=result.final_url,
        # The response comes from the last attempt.
        fetched_at=result.attempts[-1].started_at, status_code=result.status_code,
        headers=result.headers, content_type=result.content_type, charset=result.charset,
        # The fetcher's own validator is that digest already (fetching.records.Validators):
        # the body is not hashed a second time (issue 20).
        body=result.body,
        body_sha256=received_sha256(result) or hashlib.sha256(result.body).hexdigest(),
    )


# Columns of `documents` that storage derives from a DocumentRow rather than stores as given.
_DOCUMENT_DERIVED: tuple[tuple[str, pa.DataType, Callable[[DocumentRow], object]], ...] = (
    ("text_chars", pa.int32(), lambda d: len(d.content.text)),
    ("content_sha256", pa.string(), lambda d: d.content_sha256),
    ("first_seen", columns.TIMESTAMP, lambda d: d.extracted_at),  # kept on update (store.py)
)


def documents_table(docs: Sequence[DocumentRow]) -> pa.Table:
    """Document rows (the `documents` table): DocumentRow's columns and the derived ones."""
    table = columns.arrow_table(DocumentRow, docs, {"text": pa.large_string()})
    for name, kind, value in _DOCUMENT_DERIVED:
        table = table.append_column(name, pa.array([value(d) for d in docs], kind))
    return table


def passages_table(
    doc_ids: Sequence[int],
    passages: Sequence[Sequence[Passage]],
    keys: Sequence[Sequence[tuple[int, bool]]],
) -> pa.Table:
    """The passages of each document in `doc_ids` (the `passages` table)."""
    rows = [
        PassageRow(doc_id, p, *key)
        for doc_id, ps, ks in zip(doc_ids, passages, keys, strict=True)
        for p, key in zip(ps, ks, strict=True)
    ]
    return columns.arrow_table(PassageRow, rows, {"ordinal": pa.int32()})


def links_table(links: Sequence[tuple[str, int | None, str | None]]) -> pa.Table:
    """(url, doc_id, canonical_url): the document each fetched URL leads to."""
    return pa.table({
        "url": pa.array([u for u, _, _ in links], pa.string()),
        "doc_id": pa.array([d for _, d, _ in links], pa.int64()),
        "canonical_url": pa.array([c for _, _, c in links], pa.string()),
    })


def citations_table(
    doc_id: int, citations: Sequence[tuple[str, str, str, str]], now: datetime
) -> pa.Table:
    """(url, raw, kind, host) of a seed's citations, stamped `now`."""
    n = len(citations)
    return pa.table({
        "doc_id": pa.array([doc_id] * n, pa.int64()),
        "url": pa.array([c[0] for c in citations], pa.string()),
        "raw_url": pa.array([c[1] for c in citations], pa.string()),
        "kind": pa.array([c[2] for c in citations], pa.string()),
        "host": pa.array([c[3] for c in citations], pa.string()),
        "now": pa.array([now] * n, _TS),
    })
