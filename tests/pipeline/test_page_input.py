"""Fetched UTF-8 bodies go to the extraction workers as bytes, and extract as their text did."""

from datetime import UTC, datetime

from extractors.content import extract_page
from fetching.charset import decode_html
from fetching.records import Attempt, FetchResult, Outcome
from pipeline.extraction import ExtractionPool
from pipeline.steps import pages_to_extract
from tests.site import PAGES

AT = datetime(2026, 1, 1, tzinfo=UTC)
ARTICLE = PAGES["/news/geneva-talks"][2].replace("Diplomats", "Diplomàts — «naïve»")


def fetched(url: str, body: bytes, declared: str | None) -> FetchResult:
    """An ok result as the fetcher makes it: the body decoded by fetching.charset."""
    decoded = decode_html(body, declared)
    assert decoded is not None
    return FetchResult(
        url=url, outcome=Outcome.OK, attempts=(Attempt(url, 1, AT, Outcome.OK, 200),),
        status_code=200, body=body, content_type="text/html", charset=decoded.charset,
        text=decoded.text,
    )


def bodies() -> list[FetchResult]:
    utf8 = ARTICLE.encode("utf-8")
    return [
        fetched("http://a.test/utf8", utf8, "utf-8"),
        # A stray byte in a right label: the fetch's text has U+FFFD, so must the worker's.
        fetched("http://a.test/stray", utf8.replace("naïve".encode(), b"na\xefve"), "utf-8"),
        # Labelled latin-1 but valid UTF-8: the fetch reads it as UTF-8 (a stale label).
        fetched("http://a.test/stale", utf8, "iso-8859-1"),
        # Really windows-1252: sent as text.
        fetched("http://a.test/cp1252", ARTICLE.encode("cp1252", "replace"), "windows-1252"),
        # With a BOM: utf-8-sig, sent as text.
        fetched("http://a.test/bom", b"\xef\xbb\xbf" + utf8, None),
    ]


def test_utf8_bodies_travel_as_bytes_and_decode_to_the_fetched_text() -> None:
    results = bodies()
    pages = pages_to_extract(results)
    assert [type(html) for html, _ in pages] == [bytes, bytes, bytes, str, str]
    assert "\ufffd" in (results[1].text or "")
    for (html, url), result in zip(pages, results, strict=True):
        assert url == result.url
        text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
        assert text == result.text


def test_bytes_extract_as_the_text_does_in_the_pool() -> None:
    results = bodies() * 2  # past the pool's in-process threshold: real workers
    pages = pages_to_extract(results)
    with ExtractionPool(2) as pool:
        extracted = pool.extract(pages)
    expected = [extract_page(r.text or "", r.url) for r in results]
    assert extracted == expected
    assert extracted[1].document is not None and "\ufffd" in extracted[1].document.text
