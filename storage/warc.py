"""WARC export of the raw archive: every version of every page, each with its own date.

Each version's response is a request/response record pair dated when it was fetched. A
memento (a version recovered from a web archive) is a response record for the original
URL dated when the archive captured it (Memento-Datetime), naming the memento in the
extension field `WARC-Memento-URI`, with no request record: recite did not make that
request.
A later fetch that got a version's payload again (a 304, or the same body) is a
`revisit` record with the identical-payload-digest profile, as Heritrix writes them: it
refers to the version's response by URI, date and payload digest (WARC 1.0 §6.7.2).

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

from storage.archive import ArchiveStore, Capture, Revisit

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
    revisits: int = 0


def export_warc(con: duckdb.DuckDBPyConnection, out: Path, settings: WarcSettings) -> WarcReport:
    """Write every stored response as WARC request/response records to `out`, atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            counts = _write(con, handle, out.name, settings)
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return WarcReport(str(out), counts.responses, counts.records, out.stat().st_size,
                      counts.revisits)


@dataclass(slots=True)
class _Counts:
    responses: int = 0
    records: int = 1  # the warcinfo record
    revisits: int = 0


@dataclass(frozen=True, slots=True)
class _Original:
    """What a revisit refers to: the version's response record."""

    uri: str
    date: str
    digest: str
    record_id: str


def _write(
    con: duckdb.DuckDBPyConnection, handle: BinaryIO, name: str, settings: WarcSettings
) -> _Counts:
    writer = WARCWriter(handle, gzip=name.endswith(".gz"))
    writer.write_record(writer.create_warcinfo_record(name, _info(settings)))
    counts = _Counts()
    store = ArchiveStore(con)
    revisits = iter(store.revisits())
    pending = next(revisits, None)
    originals: dict[tuple[str, int], _Original] = {}
    for capture in store.version_captures():
        # Revisits in date order among the versions: each after the response it refers to.
        while pending is not None and pending.fetched_at < capture.captured_at:
            _write_revisit(writer, pending, originals, counts)
            pending = next(revisits, None)
        originals[capture.response.url, capture.version] = _write_capture(
            writer, capture, settings, counts
        )
    while pending is not None:
        _write_revisit(writer, pending, originals, counts)
        pending = next(revisits, None)
    return counts


def _write_capture(
    writer: WARCWriter, capture: Capture, settings: WarcSettings, counts: _Counts
) -> _Original:
    """A version's response record, and its request record unless it is a memento."""
    response = _response_record(writer, capture)
    if capture.memento_uri is None:
        request = _request_record(writer, capture, settings)
        # Each names the other (WARC 1.0 §5.7): tools pair them either way round.
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        request_id = request.rec_headers.get_header("WARC-Record-ID")
        request.rec_headers.add_header("WARC-Concurrent-To", response_id)
        response.rec_headers.add_header("WARC-Concurrent-To", request_id)
        writer.write_record(request)
        counts.records += 1
    else:
        response.rec_headers.add_header("WARC-Memento-URI", capture.memento_uri)
    writer.write_record(response)
    counts.records += 1
    counts.responses += 1
    headers = response.rec_headers
    return _Original(
        uri=str(headers.get_header("WARC-Target-URI")), date=str(headers.get_header("WARC-Date")),
        digest=str(headers.get_header("WARC-Payload-Digest")),
        record_id=str(headers.get_header("WARC-Record-ID")),
    )


def _write_revisit(
    writer: WARCWriter, revisit: Revisit, originals: dict[tuple[str, int], _Original],
    counts: _Counts,
) -> None:
    """A revisit record of a fetch that got a stored version's payload again."""
    original = originals.get((revisit.url, revisit.version))
    if original is None:  # its version is not in this export (never happens on one database)
        return
    record = writer.create_revisit_record(
        original.uri, original.digest, original.uri, original.date,
        warc_headers_dict={"WARC-Date": _warc_date(writer, revisit.fetched_at)},
    )
    # The record it repeats, by id as well (WARC 1.1 §5.12), for tools that look it up so.
    record.rec_headers.add_header("WARC-Refers-To", original.record_id)
    writer.write_record(record)
    counts.records += 1
    counts.revisits += 1


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
    # A memento stands for the original URL; a fetch for the URL that served the body.
    uri = stored.url if capture.memento_uri else stored.final_url or stored.url
    return writer.create_warc_record(
        uri, "response",
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
            "recite raw archive export: every version of each cited URL, dated when it was "
            "fetched (mementos: when the web archive captured them), and revisit records "
            "for later fetches that got the same payload. "
            "Bodies are stored with Content-Encoding removed; the served Content-Encoding, "
            "Content-Length and Transfer-Encoding headers are kept as X-Archive-Orig-*."
        ),
    }
