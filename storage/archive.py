"""Reads of the raw archive (`responses`): stored bodies for re-extraction and WARC export.

`responses` holds one row per requested URL's latest ok response; its body, compressed
with the codec named in `body_codec` (storage.codec), Content-Encoding already removed,
is in the Parquet file `archive_file` of the archive folder (storage.body_files). Two
requested URLs redirected to one page have two rows with the same `final_url`.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from storage import columns
from storage.body_files import archive_dir_of
from storage.codec import decompress_body
from storage.errors import ArchiveMissing
from storage.records import DocumentRow


@dataclass(frozen=True, slots=True)
class ArchivedKey:
    """A stored response without its body: enough to group responses by page."""

    url: str
    final_url: str | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class ArchivedResponse:
    """A stored response with its body decompressed (Content-Encoding already removed)."""

    url: str
    final_url: str | None
    fetched_at: datetime
    status_code: int
    headers: tuple[tuple[str, str], ...]
    content_type: str | None
    charset: str | None
    body: bytes
    body_sha256: str


@dataclass(frozen=True, slots=True)
class Capture:
    """A stored response as the fetch that made it saw it: for a WARC record pair."""

    response: ArchivedResponse
    captured_at: datetime  # start of the attempt that got the response
    user_agent: str | None  # User-Agent of the run that fetched it, if recorded


# A response's columns: ArchivedResponse's, its body kept in an archive file instead.
_STORED = ("archive_file", "body_codec", "body_bytes")
_COLUMNS = ", ".join(
    f"r.{name}" for name in (*columns.column_names(ArchivedResponse, skip=("body",)), *_STORED)
)
_Row = dict[str, Any]  # a row by column name, as DuckDB returns it

# The run that stored a response is the one whose first attempt started at fetched_at
# (Store.save_fetches stamps responses with the first attempt's start); its final attempt
# is the one that got the response, and its parameters name the User-Agent it sent.
_CAPTURES = f"""
    WITH origin AS (
        SELECT f.url, f.fetched_at, any_value(f.run_id) AS run_id
        FROM fetches f JOIN responses r ON r.url = f.url AND r.fetched_at = f.fetched_at
        WHERE f.attempt = 1
        GROUP BY ALL
    )
    SELECT {_COLUMNS},
           (SELECT max(f.fetched_at) FROM fetches f
             WHERE f.url = r.url AND f.run_id = o.run_id AND f.is_final AND f.outcome = 'ok'
           ) AS captured_at,
           json_extract_string(run.parameters, '$.user_agent') AS user_agent
    FROM responses r
    LEFT JOIN origin o ON o.url = r.url AND o.fetched_at = r.fetched_at
    LEFT JOIN runs run ON run.run_id = o.run_id
    ORDER BY r.fetched_at, r.url
"""


class ArchiveStore:
    """Reads of stored responses and of the page documents built from them."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.folder = archive_dir_of(con)

    def keys(self) -> list[ArchivedKey]:
        """Every stored response, without bodies, oldest first."""
        cursor = self.con.execute(
            f"SELECT {columns.select_list(ArchivedKey)} FROM responses ORDER BY fetched_at, url"
        )
        return [columns.from_row(ArchivedKey, r) for r in columns.named_rows(cursor)]

    def responses(self, urls: Sequence[str]) -> dict[str, ArchivedResponse]:
        """The stored responses of `urls` (requested URLs), bodies decompressed."""
        if not urls:
            return {}
        rows = columns.named_rows(self.con.execute(
            f"SELECT {_COLUMNS} FROM responses r WHERE r.url IN (SELECT unnest(?))", [list(urls)]
        ))
        bodies = self._bodies(rows)
        return {row["url"]: _response(row, bodies) for row in rows}

    def _bodies(self, rows: Sequence[_Row]) -> dict[tuple[str, str], bytes]:
        """The compressed bodies of `_COLUMNS` rows, by (url, archive file), file by file."""
        by_file: dict[str, list[str]] = {}
        for row in rows:
            by_file.setdefault(row["archive_file"], []).append(row["url"])
        out: dict[tuple[str, str], bytes] = {}
        for name, urls in by_file.items():
            path = str(self.folder / name)
            found = self.con.execute(
                "SELECT url, body_compressed FROM read_parquet(?) "
                "WHERE url IN (SELECT unnest(?))", [path, urls]
            ).fetchall()
            out.update(((url, name), body) for url, body in found)
        return out

    def captures(self, batch: int = 100) -> Iterator[Capture]:
        """Every stored response with its capture time and User-Agent, oldest first."""
        cursor = self.con.cursor()
        try:
            cursor.execute(_CAPTURES)
            while rows := columns.named_rows(cursor, cursor.fetchmany(batch)):
                bodies = self._bodies(rows)
                for row in rows:
                    response = _response(row, bodies)
                    yield Capture(
                        response=response,
                        captured_at=row["captured_at"] or response.fetched_at,
                        user_agent=row["user_agent"],
                    )
        finally:
            cursor.close()

    def documents(self, doc_ids: Sequence[int]) -> dict[int, DocumentRow]:
        """The stored documents among `doc_ids`, by id."""
        if not doc_ids:
            return {}
        cursor = self.con.execute(
            f"SELECT {columns.select_list(DocumentRow)} FROM documents "
            "WHERE doc_id IN (SELECT unnest(?))",
            [list(doc_ids)],
        )
        docs = [columns.from_row(DocumentRow, r) for r in columns.named_rows(cursor)]
        return {d.doc_id: d for d in docs}

    def dedup_settings(self) -> tuple[float, int] | None:
        """(threshold, boilerplate_min_docs) the latest run set for the views, if any."""
        found = dict(self.con.execute("SELECT name, value FROM dedup_settings").fetchall())
        if "threshold" not in found or "boilerplate_min_docs" not in found:
            return None
        return float(found["threshold"]), int(found["boilerplate_min_docs"])


def _response(row: _Row, bodies: dict[tuple[str, str], bytes]) -> ArchivedResponse:
    """An ArchivedResponse from a row of `_COLUMNS` and its file's body, decompressed."""
    url, file = row["url"], row["archive_file"]
    body = bodies.get((url, file))
    if body is None:
        raise ArchiveMissing(f"the body of {url} is not in the archive file {file}")
    return columns.from_row(ArchivedResponse, {
        **row,
        "headers": tuple((h["name"], h["value"]) for h in row["headers"] or ()),
        "body": decompress_body(body, row["body_codec"], row["body_bytes"]),
    })
