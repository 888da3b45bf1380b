"""fetching/charset.py: decoding an HTML body (BOM, declared charsets, <meta>, detection),
then the same through the real server: wrong, stale, missing and broken labels."""

from __future__ import annotations

import pytest

from fetching import Outcome
from fetching.charset import codec_name, decode_html, meta_charset
from tests.fetching.conftest import Harness

pytestmark = pytest.mark.anyio


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


async def fetch_text(harness: Harness, case: str) -> tuple[str, str]:
    """Text and charset of /charset/<case>, asserting it decoded."""
    result = await harness.fetch(harness.server.url(f"/charset/{case}"))
    assert result.outcome is Outcome.OK, result.error
    assert result.text is not None and result.charset is not None
    return result.text, result.charset


async def test_wrong_header_charset_falls_through_to_detection(harness: Harness) -> None:
    text, charset = await fetch_text(harness, "wrong-header")  # says UTF-8, is cp1252
    assert "Größere Übungen" in text
    assert "Straße" in text
    assert charset != "utf-8"


async def test_stale_latin1_label_on_utf8_body(harness: Harness) -> None:
    text, charset = await fetch_text(harness, "stale-latin1")
    assert "Größere Übungen" in text
    assert charset == "utf-8"


async def test_meta_charset(harness: Harness) -> None:
    text, charset = await fetch_text(harness, "meta")
    assert "Переговоры о европейской безопасности" in text
    assert charset == "cp1251"


async def test_meta_http_equiv_charset(harness: Harness) -> None:
    text, charset = await fetch_text(harness, "http-equiv")
    assert "Переговоры о европейской безопасности" in text
    assert charset == "koi8-r"


async def test_no_charset_anywhere_is_detected(harness: Harness) -> None:
    text, _ = await fetch_text(harness, "detect")
    assert "Переговоры о европейской безопасности" in text


async def test_invalid_utf8_bytes_are_replaced_not_fatal(harness: Harness) -> None:
    text, charset = await fetch_text(harness, "invalid-utf8")
    assert charset == "utf-8"
    assert "\ufffd" in text
    assert "Größere Übungen" in text


async def test_unknown_charset_label_is_ignored(harness: Harness) -> None:
    text, charset = await fetch_text(harness, "unknown-label")
    assert "Größere Übungen" in text
    assert charset == "utf-8"
