"""Charset scenarios through the real server: wrong, stale, missing and broken labels."""

from __future__ import annotations

import pytest

from fetching import Outcome
from tests.fetching.conftest import Harness

pytestmark = pytest.mark.anyio


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
