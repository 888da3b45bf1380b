"""fetching/content.py: Content-Type parsing and sniffing of bodies that lie or say nothing."""

from __future__ import annotations

import pytest

from fetching.content import binary_kind, looks_like_html, parse_content_type


@pytest.mark.parametrize(
    ("header", "mime", "charset"),
    [
        ("text/html", "text/html", None),
        ("Text/HTML; Charset=\"ISO-8859-1\"", "text/html", "ISO-8859-1"),
        ("text/html;charset=utf-8;foo=bar", "text/html", "utf-8"),
        ("application/xhtml+xml", "application/xhtml+xml", None),
        ("", None, None),
        (None, None, None),
        ("text/html; charset=", "text/html", None),
    ],
)
def test_parse_content_type(header: str | None, mime: str | None, charset: str | None) -> None:
    parsed = parse_content_type(header)
    assert (parsed.mime, parsed.charset) == (mime, charset)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<!DOCTYPE html><html>", True),
        (b"\xef\xbb\xbf  \n<html lang=en>", True),
        (b"<HEAD><title>x</title>", True),
        (b"<!-- comment --><div>", True),
        (b"<p>para", True),
        (b"<abbr>x</abbr>", False),
        (b"plain words", False),
        (b"{\"json\": true}", False),
        (b"%PDF-1.4", False),
    ],
)
def test_looks_like_html(body: bytes, expected: bool) -> None:
    assert looks_like_html(body) is expected


def test_binary_kind() -> None:
    assert binary_kind(b"%PDF-1.5\n...", None) == "application/pdf (PDF document)"
    assert binary_kind(b"\x89PNG\r\n\x1a\n....", None) == "image/png"
    assert binary_kind(b"<html>\x00\x01\x02", None) == "binary data"
    assert binary_kind("<p>é</p>".encode("utf-16"), None) is None  # BOM: UTF-16 text
    assert binary_kind("<p>é</p>".encode("utf-16-le"), "utf-16le") is None
    assert binary_kind(b"<p>tabs\tand\r\nnewlines\x0c</p>", None) is None
