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


_COLUMN_NAMES = (
    "url", "final_url", "fetched_at", "status_code", "headers", "content_type", "charset",
    "archive_file", "body_codec", "body_bytes", "body_sha256",
)
_COLUMNS = ", ".join(f"r.{name}" for name in _COLUMN_NAMES)
_URL, _FILE = _COLUMN_NAMES.index("url"), _COLUMN_NAMES.index("archive_file")

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
        rows = self.con.execute(
            "SELECT url, final_url, fetched_at FROM responses ORDER BY fetched_at, url"
        ).fetchall()
        return [ArchivedKey(r[0], r[1], r[2]) for r in rows]

    def responses(self, urls: Sequence[str]) -> dict[str, ArchivedResponse]:
        """The stored responses of `urls` (requested URLs), bodies decompressed."""
        if not urls:
            return {}
        rows = self.con.execute(
            f"SELECT {_COLUMNS} FROM responses r WHERE r.url IN (SELECT unnest(?))", [list(urls)]
        ).fetchall()
        bodies = self._bodies(rows)
        return {row[0]: _response(row, bodies) for row in rows}

    def _bodies(self, rows: Sequence[Sequence[Any]]) -> dict[tuple[str, str], bytes]:
        """The compressed bodies of `_COLUMNS` rows, by (url, archive file), file by file."""
        by_file: dict[str, list[str]] = {}
        for row in rows:
            by_file.setdefault(row[_FILE], []).append(row[_URL])
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
        width = len(_COLUMN_NAMES)  # captured_at and user_agent follow the response
        cursor = self.con.cursor()
        try:
            cursor.execute(_CAPTURES)
            while rows := cursor.fetchmany(batch):
                bodies = self._bodies(rows)
                for row in rows:
                    response = _response(row[:width], bodies)
                    yield Capture(response, row[width] or response.fetched_at, row[width + 1])
        finally:
            cursor.close()

    def documents(self, doc_ids: Sequence[int]) -> dict[int, DocumentRow]:
        """The stored documents among `doc_ids`, by id."""
        if not doc_ids:
            return {}
        rows = self.con.execute(
            """
            SELECT doc_id, kind, url, text, extracted_at, extractor, extractor_version, title,
                   author, published, sitename, hostname, language, description, canonical_url
            FROM documents WHERE doc_id IN (SELECT unnest(?))
            """,
            [list(doc_ids)],
        ).fetchall()
        return {int(r[0]): DocumentRow(*r) for r in rows}

    def dedup_settings(self) -> tuple[float, int] | None:
        """(threshold, boilerplate_min_docs) the latest run set for the views, if any."""
        found = dict(self.con.execute("SELECT name, value FROM dedup_settings").fetchall())
        if "threshold" not in found or "boilerplate_min_docs" not in found:
            return None
        return float(found["threshold"]), int(found["boilerplate_min_docs"])


def _response(row: Sequence[Any], bodies: dict[tuple[str, str], bytes]) -> ArchivedResponse:
    """An ArchivedResponse from a row of `_COLUMNS` and its file's body, decompressed."""
    url, final_url, fetched_at, status, headers, ctype, charset, file, codec, size, sha = row
    body = bodies.get((url, file))
    if body is None:
        raise ArchiveMissing(f"the body of {url} is not in the archive file {file}")
    return ArchivedResponse(
        url=url, final_url=final_url, fetched_at=fetched_at, status_code=status,
        headers=tuple((h["name"], h["value"]) for h in headers or ()),
        content_type=ctype, charset=charset, body=decompress_body(body, codec, size),
        body_sha256=sha,
    )
