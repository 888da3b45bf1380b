"""Bounded decompression, content sniffing and charset decoding, without a server."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator

import pytest

from fetching.body import content_encodings, read_decoded
from fetching.charset import codec_name, decode_html, meta_charset
from fetching.content import binary_kind, looks_like_html, parse_content_type
from fetching.errors import ProtocolError, TooLargeError, UnsupportedTypeError

TEXT = b"<html><body>" + b"<p>hello world</p>" * 200 + b"</body></html>"


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    """`data` in pieces, like a network stream."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("encoded", "header"),
    [
        (TEXT, None),
        (gzip.compress(TEXT), "gzip"),
        (gzip.compress(TEXT), "x-gzip"),
        (zlib.compress(TEXT), "deflate"),
        (zlib.compress(TEXT)[2:-4], "deflate"),  # raw deflate, as some servers send
        (gzip.compress(TEXT[:100]) + gzip.compress(TEXT[100:]), "gzip"),  # two members
        (gzip.compress(gzip.compress(TEXT)), "gzip, gzip"),
        (TEXT, "identity"),
    ],
)
async def test_decoding(encoded: bytes, header: str | None) -> None:
    body, raw = await read_decoded(chunks(encoded), content_encodings(header), 10**6)
    assert body == TEXT
    assert raw == len(encoded)


@pytest.mark.anyio
async def test_bomb_stops_at_the_cap_without_inflating_everything() -> None:
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024), 9)  # 200 MB in ~200 KB
    with pytest.raises(TooLargeError):
        await read_decoded(chunks(bomb, 65536), ["gzip"], 1024 * 1024)


@pytest.mark.anyio
async def test_nested_bomb_stops_too() -> None:
    bomb = gzip.compress(gzip.compress(b" " * (50 * 1024 * 1024), 9), 9)
    with pytest.raises(TooLargeError):
        await read_decoded(chunks(bomb), ["gzip", "gzip"], 1024 * 1024)


@pytest.mark.anyio
async def test_truncate_keeps_the_first_bytes() -> None:
    body, _ = await read_decoded(chunks(TEXT), [], 100, truncate=True)
    assert body == TEXT[:100]


@pytest.mark.anyio
async def test_corrupt_and_truncated_gzip_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        await read_decoded(chunks(b"\x1f\x8b\x08\x00garbage-garbage"), ["gzip"], 10**6)
    with pytest.raises(ProtocolError):
        await read_decoded(chunks(gzip.compress(TEXT)[:-20]), ["gzip"], 10**6)


def test_unsupported_encodings() -> None:
    for header in ("br", "zstd", "compress", "gzip, br"):
        with pytest.raises(UnsupportedTypeError):
            content_encodings(header)


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


def test_decode_prefers_bom() -> None:
    decoded = decode_html("\ufeff<p>Grüße</p>".encode(), "iso-8859-1")
    assert decoded is not None and decoded.text == "<p>Grüße</p>" and decoded.source == "bom"


def test_decode_header_charset() -> None:
    decoded = decode_html("<p>Grüße</p>".encode("cp1252"), "windows-1252")
    assert decoded is not None and decoded.text == "<p>Grüße</p>"
    assert decoded.source == "header"


def test_latin1_label_decodes_as_windows_1252() -> None:
    # WHATWG: "iso-8859-1" means windows-1252, where 0x80 is the euro sign.
    decoded = decode_html(b"<p>\x80 5</p>", "ISO-8859-1")
    assert decoded is not None and decoded.text == "<p>€ 5</p>"


def test_meta_charset_forms() -> None:
    assert meta_charset(b'<meta charset="UTF-8">') == "utf-8"
    assert meta_charset(b"<META CHARSET=iso-8859-2>") == "iso-8859-2"
    assert meta_charset(b'<meta http-equiv="content-type" content="text/html; charset=gbk">') == (
        "gbk"
    )
    assert meta_charset(b"<meta charset=utf-16>") == "utf-8"
    assert meta_charset(b" " * 5000 + b'<meta charset="koi8-r">') is None  # past 4 KB


def test_codec_names() -> None:
    assert codec_name("UTF8") == "utf-8"
    assert codec_name("latin1") == "cp1252"
    assert codec_name("shift_jis") == "cp932"
    assert codec_name("no-such-charset") is None
    assert codec_name(None) is None


def test_no_text_recoverable_is_none() -> None:
    assert decode_html(bytes(range(128, 256)) * 10, None) is None
