"""Arrow tables of a batch's rows, so each table is written with one statement.

DuckDB runs a parameterized statement per row at about 10 µs to 1 ms (more with large
values); a registered Arrow table goes in at millions of rows per second. Each function
here turns records into the columns of one table, in the table's column order.
"""

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from datetime import datetime

import duckdb
import pyarrow as pa

from extractors.records import Passage
from fetching.records import FetchResult, Outcome
from storage.codec import ARCHIVE_CODEC, compress_body
from storage.records import DocumentRow

_TS = pa.timestamp("us", tz="UTC")
_HEADERS = pa.list_(pa.struct([("name", pa.string()), ("value", pa.string())]))


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[str]:
    """Make `table` queryable as `name` for the block."""
    con.register(name, table)
    try:
        yield name
    finally:
        con.unregister(name)


def attempts_table(run_id: str, results: Sequence[FetchResult]) -> pa.Table:
    """One row per attempt of every result (the `fetches` table)."""
    rows = [
        (r.url, a, i == len(r.attempts)) for r in results for i, a in enumerate(r.attempts, 1)
    ]
    return pa.table({
        "run_id": pa.array([run_id] * len(rows), pa.string()),
        "url": pa.array([u for u, _, _ in rows], pa.string()),
        "attempt": pa.array([a.attempt for _, a, _ in rows], pa.int32()),
        "fetched_at": pa.array([a.started_at for _, a, _ in rows], _TS),
        "status_code": pa.array([a.status_code for _, a, _ in rows], pa.int32()),
        "final_url": pa.array([a.final_url for _, a, _ in rows], pa.string()),
        "redirect_chain": pa.array([list(a.redirect_chain) for _, a, _ in rows],
                                   pa.list_(pa.string())),
        "outcome": pa.array([str(a.outcome) for _, a, _ in rows], pa.string()),
        "error": pa.array([a.error for _, a, _ in rows], pa.string()),
        "bytes": pa.array([a.bytes for _, a, _ in rows], pa.int64()),
        "elapsed_ms": pa.array([a.elapsed_ms for _, a, _ in rows], pa.float64()),
        "is_final": pa.array([last for _, _, last in rows], pa.bool_()),
    })


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
    })


def responses_table(results: Sequence[FetchResult]) -> pa.Table:
    """The raw response of each ok result with a body (the `responses` table)."""
    ok = [r for r in results if r.outcome is Outcome.OK and r.body is not None]
    bodies = [r.body or b"" for r in ok]
    return pa.table({
        "url": pa.array([r.url for r in ok], pa.string()),
        "final_url": pa.array([r.final_url for r in ok], pa.string()),
        # The response comes from the last attempt.
        "fetched_at": pa.array([r.attempts[-1].started_at if r.attempts else None for r in ok],
                               _TS),
        "status_code": pa.array([r.status_code for r in ok], pa.int32()),
        "headers": pa.array([[{"name": k, "value": v} for k, v in r.headers] for r in ok],
                            _HEADERS),
        "content_type": pa.array([r.content_type for r in ok], pa.string()),
        "charset": pa.array([r.charset for r in ok], pa.string()),
        "body_sha256": pa.array([hashlib.sha256(b).hexdigest() for b in bodies], pa.string()),
        "body_bytes": pa.array([len(b) for b in bodies], pa.int64()),
        "body_compressed": pa.array([compress_body(b) for b in bodies], pa.large_binary()),
        "body_codec": pa.array([ARCHIVE_CODEC] * len(ok), pa.string()),
    })


def documents_table(docs: Sequence[DocumentRow]) -> pa.Table:
    """Document rows (the `documents` table); `first_seen` is the extraction time."""
    def col(values: list[object], kind: pa.DataType) -> pa.Array:
        return pa.array(values, kind)

    text = pa.string()
    return pa.table({
        "doc_id": col([d.doc_id for d in docs], pa.int64()),
        "kind": col([d.kind for d in docs], text),
        "url": col([d.url for d in docs], text),
        "canonical_url": col([d.canonical_url for d in docs], text),
        "title": col([d.title for d in docs], text),
        "author": col([d.author for d in docs], text),
        "published": col([d.published for d in docs], text),
        "sitename": col([d.sitename for d in docs], text),
        "hostname": col([d.hostname for d in docs], text),
        "language": col([d.language for d in docs], text),
        "description": col([d.description for d in docs], text),
        "text": col([d.text for d in docs], pa.large_string()),
        "text_chars": col([len(d.text) for d in docs], pa.int32()),
        "content_sha256": col([d.content_sha256 for d in docs], text),
        "extractor": col([d.extractor for d in docs], text),
        "extractor_version": col([d.extractor_version for d in docs], text),
        "first_seen": col([d.extracted_at for d in docs], _TS),
        "extracted_at": col([d.extracted_at for d in docs], _TS),
    })


def passages_table(
    doc_ids: Sequence[int],
    passages: Sequence[Sequence[Passage]],
    keys: Sequence[Sequence[tuple[int, bool]]],
) -> pa.Table:
    """The passages of each document in `doc_ids` (the `passages` table)."""
    rows = [
        (doc_id, p, key)
        for doc_id, ps, ks in zip(doc_ids, passages, keys, strict=True)
        for p, key in zip(ps, ks, strict=True)
    ]
    return pa.table({
        "doc_id": pa.array([d for d, _, _ in rows], pa.int64()),
        "ordinal": pa.array([p.ordinal for _, p, _ in rows], pa.int32()),
        "text": pa.array([p.text for _, p, _ in rows], pa.string()),
        "norm_hash": pa.array([k[0] for _, _, k in rows], pa.int64()),
        "counts_for_repeats": pa.array([k[1] for _, _, k in rows], pa.bool_()),
    })


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
