"""Reading a 2xx response into a page: type check, size cap, sniffing, decoding."""

from dataclasses import dataclass

import httpx

from fetching.body import content_encodings, read_decoded
from fetching.charset import decode_html
from fetching.client import translated
from fetching.content import (
    binary_kind,
    describe_type,
    is_html_type,
    looks_like_html,
    parse_content_type,
)
from fetching.errors import DecodeError, EmptyBodyError, TooLargeError, UnsupportedTypeError


@dataclass(frozen=True, slots=True)
class Page:
    """An HTML body, decoded twice: content-coding removed (`body`) and to `text`."""

    body: bytes
    raw_bytes: int
    content_type: str
    charset: str
    text: str


async def read_page(response: httpx.Response, max_bytes: int) -> Page:
    """Check type and size, read the body within limits, decode it to text."""
    ctype = parse_content_type(response.headers.get("content-type"))
    if ctype.mime is not None and not is_html_type(ctype.mime):
        # Refused on the headers alone: a PDF is never downloaded.
        raise UnsupportedTypeError(f"content type {describe_type(ctype.mime)}")
    encodings = content_encodings(response.headers.get("content-encoding"))
    _check_declared_length(response, encodings, max_bytes)
    with translated():
        body, raw_bytes = await read_decoded(response.aiter_raw(), encodings, max_bytes)
    if not body.strip():
        raise EmptyBodyError(f"HTTP {response.status_code} with an empty body")
    if ctype.mime is None and not looks_like_html(body):
        kind = binary_kind(body, None) or "not HTML"
        raise UnsupportedTypeError(f"no Content-Type, and the body is {kind}")
    _check_not_binary(body, ctype.mime or "(none)", ctype.charset)
    decoded = decode_html(body, ctype.charset)
    if decoded is None:
        raise DecodeError("no charset decodes the body to text")
    return Page(body, raw_bytes, ctype.mime or "text/html", decoded.charset, decoded.text)


def _check_declared_length(response: httpx.Response, encodings: list[str], limit: int) -> None:
    """Refuse early when an uncompressed body announces more than `limit` bytes."""
    declared = response.headers.get("content-length", "").strip()
    if not encodings and declared.isdigit() and int(declared) > limit:
        raise TooLargeError(f"Content-Length {declared} exceeds {limit} bytes")


def _check_not_binary(body: bytes, mime: str, charset: str | None) -> None:
    """Refuse a body labelled HTML that is a known binary format or not text at all."""
    kind = binary_kind(body, charset)
    if kind == "binary data":
        raise DecodeError(f"body labelled {mime} is binary data, not text")
    if kind is not None:
        raise UnsupportedTypeError(f"body labelled {mime} is {kind}")
