"""WARC export of the raw archive: one request/response record pair per stored response.

Written with warcio (WARC/1.0, its default), one gzip member per record when the file
name ends in `.gz`, so other web-archive tools can index and replay it. The stored
bodies have their Content-Encoding removed (the fetcher decodes gzip/deflate while
enforcing its size limit), so each response record says what it holds: the served
`Content-Encoding`, `Content-Length` and `Transfer-Encoding` headers are renamed
`X-Archive-Orig-<name>` (a served Content-Length equal to the stored length is kept) and
a `Content-Length` of the stored body is added; otherwise a reader would try to gunzip
or de-chunk plain bytes.
"""

import contextlib
import http
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import duckdb
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from storage.archive import ArchiveStore, Capture

# Headers describing the bytes on the wire, not the stored (decoded) body.
WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
ORIGINAL_PREFIX = "X-Archive-Orig-"


@dataclass(frozen=True, slots=True)
class WarcSettings:
    """What the export cannot read from the database: the fetcher's fixed request headers."""

    software: str
    default_user_agent: str  # for responses whose run recorded no User-Agent
    request_headers: tuple[tuple[str, str], ...] = ()  # sent with every request (Accept, ...)


@dataclass(frozen=True, slots=True)
class WarcReport:
    """What an export wrote."""

    path: str
    responses: int
    records: int
    bytes: int


def export_warc(con: duckdb.DuckDBPyConnection, out: Path, settings: WarcSettings) -> WarcReport:
    """Write every stored response as WARC request/response records to `out`, atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            responses = _write(con, handle, out.name, settings)
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return WarcReport(str(out), responses, 1 + 2 * responses, out.stat().st_size)


def _write(con: duckdb.DuckDBPyConnection, handle: BinaryIO, name: str, settings: WarcSettings) -> int:
    writer = WARCWriter(handle, gzip=name.endswith(".gz"))
    writer.write_record(writer.create_warcinfo_record(name, _info(settings)))
    count = 0
    for capture in ArchiveStore(con).captures():
        response = _response_record(writer, capture)
        request = _request_record(writer, capture, settings)
        # Each names the other (WARC 1.0 §5.7): tools pair them either way round.
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        request_id = request.rec_headers.get_header("WARC-Record-ID")
        request.rec_headers.add_header("WARC-Concurrent-To", response_id)
        response.rec_headers.add_header("WARC-Concurrent-To", request_id)
        writer.write_record(request)
        writer.write_record(response)
        count += 1
    return count


def response_headers(stored: Sequence[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    """The stored headers as they fit the stored (decoded) body; wire headers renamed."""
    length = str(body_length)
    out = []
    for name, value in stored:
        lower = name.lower()
        # A served Content-Length that is the stored body's length is still true: kept.
        if lower in WIRE_HEADERS and not (lower == "content-length" and value.strip() == length):
            name = ORIGINAL_PREFIX + name
        out.append((name, value))
    if not any(name.lower() == "content-length" for name, _ in out):
        out.append(("Content-Length", length))
    return out


def _response_record(writer: WARCWriter, capture: Capture) -> Any:
    stored = capture.response
    try:
        phrase = http.HTTPStatus(stored.status_code).phrase
    except ValueError:
        phrase = ""
    head = StatusAndHeaders(
        f"{stored.status_code} {phrase}".strip(),
        response_headers(stored.headers, len(stored.body)),
        protocol="HTTP/1.1",
    )
    return writer.create_warc_record(
        stored.final_url or stored.url, "response",
        payload=BytesIO(stored.body), length=len(stored.body), http_headers=head,
        warc_headers_dict={"WARC-Date": _warc_date(writer, capture.captured_at)},
    )


def _request_record(writer: WARCWriter, capture: Capture, settings: WarcSettings) -> Any:
    stored = capture.response
    uri = stored.final_url or stored.url
    parts = urlsplit(uri)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [
        ("Host", parts.netloc.rsplit("@", 1)[-1]),
        ("User-Agent", capture.user_agent or settings.default_user_agent),
        *settings.request_headers,
    ]
    head = StatusAndHeaders(f"GET {target} HTTP/1.1", headers, is_http_request=True)
    return writer.create_warc_record(
        uri, "request", http_headers=head,
        warc_headers_dict={"WARC-Date": _warc_date(writer, capture.captured_at)},
    )


def _warc_date(writer: WARCWriter, at: datetime) -> str:
    """WARC-Date in UTC: seconds in WARC/1.0, microseconds from WARC/1.1 on."""
    micros = writer.warc_version >= "WARC/1.1"
    return str(datetime_to_iso_date(at.astimezone(UTC).replace(tzinfo=None), use_micros=micros))


def _info(settings: WarcSettings) -> dict[str, str]:
    return {
        "software": settings.software,
        "format": "WARC File Format 1.0",
        "conformsTo": "http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf",
        "description": (
            "recite raw archive export: the latest successful response of each fetched URL. "
            "Bodies are stored with Content-Encoding removed; the served Content-Encoding, "
            "Content-Length and Transfer-Encoding headers are kept as X-Archive-Orig-*."
        ),
    }
