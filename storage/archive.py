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
    version: int = 0  # versions.version it first showed (0: read from `responses`)
    memento_uri: str | None = None  # for a memento: its URI in the web archive


@dataclass(frozen=True, slots=True)
class Revisit:
    """A later fetch that got a version's payload again: a 304, or the same body (WARC revisit)."""

    url: str
    version: int
    fetched_at: datetime
    status_code: int | None


# A response's columns: ArchivedResponse's, its body kept in an archive file instead.
_STORED = ("archive_file", "body_codec", "body_bytes")
# The columns of `responses`.
RESPONSE_COLUMNS = (*columns.column_names(ArchivedResponse, skip=("body",)), *_STORED)
_COLUMNS = ", ".join(f"r.{name}" for name in RESPONSE_COLUMNS)
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


# Every version's response, oldest first, and each latest response that made no version
# (a page without main text); the fetch that got it names its run's User-Agent.
_VERSIONS = f"""
    WITH kept AS (
        SELECT {", ".join(f"v.{name}" for name in RESPONSE_COLUMNS)}, v.version, v.source,
               v.memento_uri, v.memento_datetime
        FROM versions v
        UNION ALL
        SELECT {_COLUMNS}, 0, 'fetch', NULL, NULL FROM responses r
        WHERE NOT EXISTS (SELECT 1 FROM versions v
                          WHERE v.url = r.url AND v.body_sha256 = r.body_sha256)
    )
    SELECT k.*,
           (SELECT json_extract_string(run.parameters, '$.user_agent')
              FROM fetches f JOIN runs run ON run.run_id = f.run_id
             WHERE f.url = k.url AND f.fetched_at = k.fetched_at LIMIT 1) AS user_agent
    FROM kept k
    ORDER BY coalesce(k.memento_datetime, k.fetched_at), k.url, k.version
"""

# Final fetches that got no new version but an earlier payload again: a 304 (the version
# current then), or a 200 whose body is a stored version's (that version).
_REVISITS = """
    SELECT f.url, f.fetched_at, f.status_code,
           coalesce(
             (SELECT min(v.version) FROM versions v
               WHERE v.url = f.url AND v.body_sha256 = f.body_sha256 AND v.source = 'fetch'),
             CASE WHEN f.status_code = 304 THEN coalesce(
               (SELECT arg_max(c.to_version, c.detected_at) FROM version_changes c
                 WHERE c.url = f.url AND c.detected_at <= f.fetched_at),
               (SELECT arg_min(v.version, v.first_seen) FROM versions v
                 WHERE v.url = f.url AND v.source = 'fetch' AND v.first_seen <= f.fetched_at))
             END) AS version
    FROM fetches f
    WHERE f.is_final AND f.outcome IN ('ok', 'not_modified')
      AND NOT EXISTS (SELECT 1 FROM versions v
                       WHERE v.url = f.url AND v.fetched_at = f.fetched_at)
    ORDER BY f.fetched_at, f.url
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

    def _bodies(
        self, rows: Sequence[_Row], by_digest: bool = False
    ) -> dict[tuple[str, str], bytes]:
        """The compressed bodies of `_COLUMNS` rows, by (url, archive file), file by file.

        `by_digest` keys them by (url, body_sha256) instead: a URL's versions may share a
        file (migration 50 moved every body to one).
        """
        by_file: dict[str, list[str]] = {}
        for row in rows:
            by_file.setdefault(row["archive_file"], []).append(row["url"])
        out: dict[tuple[str, str], bytes] = {}
        for name, urls in by_file.items():
            path = str(self.folder / name)
            found = self.con.execute(
                "SELECT url, body_sha256, body_compressed FROM read_parquet(?) "
                "WHERE url IN (SELECT unnest(?))", [path, urls]
            ).fetchall()
            out.update(((url, sha if by_digest else name), body) for url, sha, body in found)
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

    def version_captures(self, batch: int = 100) -> Iterator[Capture]:
        """Every version's response with its date and User-Agent, oldest first.

        A memento's date is when the web archive captured it (Memento-Datetime).
        """
        cursor = self.con.cursor()
        try:
            cursor.execute(_VERSIONS)
            while rows := columns.named_rows(cursor, cursor.fetchmany(batch)):
                bodies = self._bodies(rows, by_digest=True)
                for row in rows:
                    response = _response(row, bodies, by_digest=True)
                    yield Capture(
                        response=response,
                        captured_at=row["memento_datetime"] or response.fetched_at,
                        user_agent=row["user_agent"] if row["source"] == "fetch" else None,
                        version=row["version"], memento_uri=row["memento_uri"],
                    )
        finally:
            cursor.close()

    def revisits(self) -> list[Revisit]:
        """Later fetches that got a stored version's payload again, oldest first."""
        cursor = self.con.execute(_REVISITS)
        return [
            Revisit(row["url"], row["version"], row["fetched_at"], row["status_code"])
            for row in columns.named_rows(cursor) if row["version"] is not None
        ]

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


def _response(
    row: _Row, bodies: dict[tuple[str, str], bytes], by_digest: bool = False
) -> ArchivedResponse:
    """An ArchivedResponse from a row of `_COLUMNS` and its file's body, decompressed."""
    url, file = row["url"], row["archive_file"]
    body = bodies.get((url, row["body_sha256"] if by_digest else file))
    if body is None:
        raise ArchiveMissing(f"the body of {url} is not in the archive file {file}")
    return columns.from_row(ArchivedResponse, {
        **row,
        "headers": tuple((h["name"], h["value"]) for h in row["headers"] or ()),
        "body": decompress_body(body, row["body_codec"], row["body_bytes"]),
    })
