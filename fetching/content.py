"""Content types: which ones recite keeps, and sniffing a body that lies or says nothing.

Sniffing follows the spirit of the WHATWG MIME Sniffing Standard: HTML is
recognised by its leading tags (§7.1), binary by magic numbers and by "binary
data bytes" (control characters text never contains).
"""

import re
from dataclasses import dataclass

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# Well-known non-text formats, named in the error so the reason is readable.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf (PDF document)"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/zip (or an Office document)"),
    (b"\x1f\x8b\x08", "application/gzip"),
    (b"RIFF", "audio/video/image RIFF container"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"\x7fELF", "application/x-executable"),
)

# WHATWG MIME Sniffing §7.1, "identifying a resource with an unknown MIME type".
_HTML_PREFIXES = (
    b"<!doctype html", b"<html", b"<head", b"<script", b"<iframe", b"<h1", b"<div",
    b"<font", b"<table", b"<a", b"<style", b"<title", b"<b", b"<body", b"<br", b"<p",
    b"<!--",
)
# "Binary data bytes" (WHATWG MIME Sniffing §3): control bytes absent from text.
_BINARY_BYTES = frozenset({*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)})
# One C-level scan instead of a Python loop over 1,024 bytes per page (it showed in profiles).
_BINARY_BYTE = re.compile(b"[" + b"".join(re.escape(bytes([b])) for b in sorted(_BINARY_BYTES)) + b"]")
_BOMS = (b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe")


@dataclass(frozen=True, slots=True)
class ContentType:
    """A parsed Content-Type header: lower-case MIME type and optional charset."""

    mime: str | None
    charset: str | None


def parse_content_type(header: str | None) -> ContentType:
    """Split a Content-Type header into type and charset (RFC 9110 §8.3)."""
    if not header or not header.strip():
        return ContentType(None, None)
    mime, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("'\"").strip() or None
    return ContentType(mime.strip().lower() or None, charset)


def is_html_type(mime: str | None) -> bool:
    """True for the types recite extracts."""
    return mime in HTML_TYPES


def describe_type(mime: str) -> str:
    """A readable label for an unsupported type (PDF named explicitly)."""
    if mime == "application/pdf":
        return "application/pdf (PDF document; not extracted)"
    return mime


def looks_like_html(body: bytes) -> bool:
    """True if the body starts (after BOM/whitespace) with a tag HTML pages start with."""
    head = _strip_bom(body[:1024]).lstrip(b" \t\r\n\x0c").lower()
    for prefix in _HTML_PREFIXES:
        if head.startswith(prefix):
            rest = head[len(prefix) : len(prefix) + 1]
            # The tag must end here (space or '>'), so "<abbr" is not "<a".
            if prefix == b"<!--" or rest in (b" ", b">", b"\t", b"\n", b"\r", b"\x0c"):
                return True
    return False


def binary_kind(body: bytes, declared_charset: str | None) -> str | None:
    """What binary format the body is, if it is not text; None for text."""
    head = body[:1024]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(_BOMS) or (declared_charset or "").lower().startswith("utf-16"):
        return None  # UTF-16 text is full of NUL bytes; the BOM or header says so
    if _BINARY_BYTE.search(head):
        return "binary data"
    return None


def _strip_bom(data: bytes) -> bytes:
    """`data` without a leading byte order mark."""
    for bom in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :]
    return data
