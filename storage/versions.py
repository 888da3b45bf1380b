"""Reads and writes of page versions: `versions`, `version_texts`, `version_changes` (issue 16).

A cited URL's versions are its distinct (text, title) pairs in order of first appearance.
Each new version's raw response goes to a new archive file (storage.body_files) and its
row to `versions`; the text goes to `version_texts` once, whatever the URLs and versions
that share it. `urls.current_version` names the version the URL leads to now, and
`responses` is kept equal to the response of each URL's current fetched version, so the
readers of the latest response (re-extraction) read what `documents` holds.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from storage import bulk, columns
from storage.archive import RESPONSE_COLUMNS, ArchivedResponse
from storage.body_files import BODY_COLUMNS, archive_dir_of, write_bodies
from storage.changes import mark, mark_table, mark_values
from storage.codec import ARCHIVE_CODEC, compress_body
from storage.records import ChangeRow, DocumentRow, StoredResponse, VersionRow

_HEADERS = pa.list_(pa.struct([("name", pa.string()), ("value", pa.string())]))


@dataclass(frozen=True, slots=True)
class KnownVersions:
    """A URL's stored versions by (content_sha256, title), its current and its latest."""

    current: int | None
    by_content: dict[tuple[str, str | None], int]
    latest: int


@dataclass(frozen=True, slots=True)
class MementoLookup:
    """A question to a TimeGate and its answer (a `memento_lookups` row)."""

    url: str
    run_id: str
    asked_at: datetime
    timegate: str
    accept_datetime: datetime
    outcome: str
    memento_uri: str | None
    memento_datetime: datetime | None
    version: int | None
    error: str | None


class VersionStore:
    """The versions of cited URLs over one read-write connection (no transactions here)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def known(self, urls: Sequence[str]) -> dict[str, KnownVersions]:
        """The stored versions of each of `urls` that has any."""
        if not urls:
            return {}
        rows = self.con.execute(
            """
            SELECT v.url, v.version, v.content_sha256, v.title, u.current_version
            FROM versions v LEFT JOIN urls u ON u.url = v.url
            WHERE v.url IN (SELECT unnest(?))
            """,
            [list(urls)],
        ).fetchall()
        grouped: dict[str, list[tuple[int, str, str | None, int | None]]] = {}
        for url, version, sha, title, current in rows:
            grouped.setdefault(url, []).append((version, sha, title, current))
        return {
            url: KnownVersions(
                current=found[0][3],
                by_content={(sha, title): version for version, sha, title, _ in found},
                latest=max(version for version, *_ in found),
            )
            for url, found in grouped.items()
        }

    def texts(self, shas: Sequence[str]) -> dict[str, str]:
        """The stored texts among `shas`, by content_sha256."""
        if not shas:
            return {}
        rows = self.con.execute(
            "SELECT content_sha256, text FROM version_texts "
            "WHERE content_sha256 IN (SELECT unnest(?))",
            [list(set(shas))],
        ).fetchall()
        return dict(rows)

    def version_texts(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """The text of each (url, version) among `keys`."""
        if not keys:
            return {}
        table = pa.table({
            "url": pa.array([u for u, _ in keys], pa.string()),
            "version": pa.array([v for _, v in keys], pa.int32()),
        })
        with bulk.registered(self.con, "wanted_versions", table):
            rows = self.con.execute(
                """
                SELECT v.url, v.version, t.text FROM versions v
                JOIN wanted_versions w ON w.url = v.url AND w.version = v.version
                JOIN version_texts t ON t.content_sha256 = v.content_sha256
                """
            ).fetchall()
        return {(url, version): text for url, version, text in rows}

    def archive(
        self, run_id: str, responses: Sequence[ArchivedResponse], at: datetime
    ) -> list[StoredResponse]:
        """Write the bodies to one new archive file; each response as `versions` keeps it."""
        if not responses:
            return []
        bodies = pa.table({
            "url": pa.array([r.url for r in responses], pa.string()),
            "fetched_at": pa.array([r.fetched_at for r in responses], columns.TIMESTAMP),
            "body_sha256": pa.array([r.body_sha256 for r in responses], pa.string()),
            "body_bytes": pa.array([len(r.body) for r in responses], pa.int64()),
            "body_codec": pa.array([ARCHIVE_CODEC] * len(responses), pa.string()),
            "body_compressed": pa.array(
                [compress_body(r.body) for r in responses], pa.large_binary()
            ),
        }).select(list(BODY_COLUMNS))
        folder = archive_dir_of(self.con)
        name = write_bodies(folder, bodies, at)
        self.con.execute(
            "INSERT INTO archive_files VALUES (?, ?, ?, ?, ?)",
            [name, run_id, len(responses), (folder / name).stat().st_size, at],
        )
        return [
            StoredResponse(
                final_url=r.final_url, fetched_at=r.fetched_at, status_code=r.status_code,
                headers=r.headers, content_type=r.content_type, charset=r.charset,
                body_sha256=r.body_sha256, body_bytes=len(r.body), body_codec=ARCHIVE_CODEC,
                archive_file=name,
            )
            for r in responses
        ]

    def add(self, rows: Sequence[VersionRow]) -> None:
        """Insert new versions, and their texts unless stored already."""
        if not rows:
            return
        table = columns.arrow_table(
            VersionRow, rows, {"version": pa.int32(), "status_code": pa.int32(),
                               "headers": _HEADERS}, skip=("text",),
        )
        with bulk.registered(self.con, "new_versions", table) as t:
            mark(self.con, "urls", f"SELECT url FROM {t}")
            names = ", ".join(table.column_names)
            self.con.execute(f"INSERT INTO versions ({names}) SELECT {names} FROM {t}")
        texts = pa.table({
            "content_sha256": pa.array([r.content_sha256 for r in rows], pa.string()),
            "text": pa.array([r.content.text for r in rows], pa.large_string()),
        })
        with bulk.registered(self.con, "new_texts", texts):
            self.con.execute(
                "INSERT INTO version_texts SELECT DISTINCT ON (content_sha256) content_sha256, "
                "text FROM new_texts ON CONFLICT (content_sha256) DO NOTHING"
            )

    def seen(self, keys: Sequence[tuple[str, int, datetime]]) -> None:
        """Extend each (url, version)'s last_seen to the time given with it."""
        if not keys:
            return
        table = pa.table({
            "url": pa.array([u for u, _, _ in keys], pa.string()),
            "version": pa.array([v for _, v, _ in keys], pa.int32()),
            "at": pa.array([t for _, _, t in keys], columns.TIMESTAMP),
        })
        with bulk.registered(self.con, "seen_versions", table):
            mark(self.con, "urls", "SELECT url FROM seen_versions")
            self.con.execute(
                """
                UPDATE versions SET last_seen = greatest(versions.last_seen, k.at)
                FROM seen_versions k
                WHERE versions.url = k.url AND versions.version = k.version
                """
            )

    def make_current(self, keys: Sequence[tuple[str, int]]) -> None:
        """Point each URL at its version, and `responses` at that version's response."""
        if not keys:
            return
        urls = [u for u, _ in keys]
        mark_values(self.con, "urls", list(urls))
        self.con.execute(
            """
            UPDATE urls SET current_version = k.version
            FROM (SELECT unnest(?) AS url, unnest(?) AS version) k WHERE urls.url = k.url
            """,
            [urls, [v for _, v in keys]],
        )
        names = ", ".join(RESPONSE_COLUMNS)
        selected = ", ".join(f"v.{c}" for c in RESPONSE_COLUMNS)
        self.con.execute(
            f"""
            INSERT OR REPLACE INTO responses ({names})
            SELECT {selected} FROM versions v JOIN urls u
              ON u.url = v.url AND u.current_version = v.version
            WHERE v.url IN (SELECT unnest(?)) AND v.source = 'fetch'
            """,
            [urls],
        )

    def keep_responses(
        self, run_id: str, responses: Sequence[ArchivedResponse], at: datetime
    ) -> None:
        """Archive responses that made no version (no main text), as their URLs' latest.

        A better extractor may find text in them later (`recite reextract`).
        """
        stored = self.archive(run_id, responses, at)
        if not stored:
            return
        table = columns.arrow_table(
            StoredResponse, stored, {"status_code": pa.int32(), "headers": _HEADERS}
        ).append_column("url", pa.array([r.url for r in responses], pa.string()))
        with bulk.registered(self.con, "kept_responses", table) as t:
            mark(self.con, "urls", f"SELECT url FROM {t}")
            names = ", ".join(RESPONSE_COLUMNS)
            self.con.execute(f"INSERT OR REPLACE INTO responses ({names}) SELECT {names} FROM {t}")

    def reextracted(self, urls: Sequence[str], doc: DocumentRow) -> None:
        """Give the current versions of `urls` that show `doc` its re-extracted content.

        Re-extraction (`recite reextract`) reads the same stored body with a newer
        extractor: the page did not change, so no version is added, but the current
        version must keep holding what `documents` holds.
        """
        if not urls:
            return
        content = doc.content
        mark_values(self.con, "urls", list(urls))
        self.con.execute(
            "INSERT INTO version_texts VALUES (?, ?) ON CONFLICT (content_sha256) DO NOTHING",
            [doc.content_sha256, content.text],
        )
        self.con.execute(
            """
            UPDATE versions SET content_sha256 = ?, title = ?, author = ?, published = ?,
              sitename = ?, hostname = ?, language = ?, description = ?, canonical_url = ?,
              extracted_at = ?, extractor_version = ?
            FROM urls u
            WHERE u.url = versions.url AND u.current_version = versions.version
              AND versions.doc_id = ? AND versions.url IN (SELECT unnest(?))
            """,
            [doc.content_sha256, content.title, content.author, content.published,
             content.sitename, content.hostname, content.language, content.description,
             content.canonical_url, doc.extracted_at, doc.extractor_version, doc.doc_id,
             list(urls)],
        )

    def log_changes(self, changes: Sequence[ChangeRow]) -> None:
        """Record observed changes."""
        if not changes:
            return
        table = columns.arrow_table(ChangeRow, changes, {
            "from_version": pa.int32(), "to_version": pa.int32(),
            "paragraphs_added": pa.int32(), "paragraphs_removed": pa.int32(),
            "diff": pa.large_string(),
        })
        with bulk.registered(self.con, "new_changes", table) as t:
            mark(self.con, "urls", f"SELECT url FROM {t}")
            names = ", ".join(table.column_names)
            self.con.execute(f"INSERT INTO version_changes ({names}) SELECT {names} FROM {t}")

    def cite_current(self, urls: Sequence[str] | None = None) -> None:
        """Give citations without a cited version the current one of their URL (as cited)."""
        where = "" if urls is None else "AND citations.url IN (SELECT unnest(?))"
        if urls is None:
            mark_table(self.con, "citations")
        else:
            mark_values(self.con, "urls", list(urls))
        self.con.execute(
            f"""
            UPDATE citations SET cited_version = u.current_version FROM urls u
            WHERE citations.url = u.url AND citations.cited_version IS NULL
              AND u.current_version IS NOT NULL {where}
            """,
            [] if urls is None else [list(urls)],
        )

    def log_lookups(self, lookups: Sequence[MementoLookup]) -> None:
        """Record TimeGate questions and their answers."""
        if not lookups:
            return
        table = columns.arrow_table(MementoLookup, lookups, {"version": pa.int32()})
        with bulk.registered(self.con, "new_lookups", table) as t:
            names = ", ".join(table.column_names)
            self.con.execute(f"INSERT INTO memento_lookups ({names}) SELECT {names} FROM {t}")
