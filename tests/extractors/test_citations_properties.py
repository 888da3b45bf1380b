"""Property tests: citation extraction never raises and returns only normalized http(s) URLs."""

from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.citations import scan_html, scan_markdown, scan_text
from extractors.records import CitationScan
from extractors.urls import normalize_url

URL_PARTS = st.sampled_from([
    "https://", "http://", "HTTPS://", "ftp://", "javascript:", "data:text/html,", "mailto:",
    "//", "www.", "example.org", "xn--bcher-kva.de", "bücher.de", "[::1]", "127.0.0.1",
    ":8080", ":99999", "/", "/a b", "?", "&", "=", "#", "%", "%zz", "(", ")", ".", ",", "'",
    '"', "<", ">", "[", "]", "\u00a0", "\n", " ", "user:pw@", "@", "\\", "ä", "日本",
])
TEXTISH = st.lists(st.one_of(URL_PARTS, st.text(max_size=8)), max_size=40).map("".join)


def check(scan: CitationScan) -> None:
    for citation in scan.citations:
        parts = urlsplit(citation.url)
        assert parts.scheme in ("http", "https"), citation
        assert parts.hostname, citation
        assert normalize_url(citation.url) == citation.url, citation
    for other in scan.other_schemes:
        assert not other.url.startswith(("http://", "https://"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTISH)
def test_plain_text(text: str) -> None:
    check(scan_text(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTISH, TEXTISH)
def test_markdown(label: str, target: str) -> None:
    check(scan_markdown(f"{label} [{label}]({target}) <{target}> {target}"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTISH, TEXTISH, st.booleans())
def test_html(href: str, body: str, with_base: bool) -> None:
    base = f'<base href="{body}">' if with_base else ""
    check(scan_html(f'<html><head>{base}</head><body><a href="{href}">{body}</a>{body}</body></html>'))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_unicode_in_every_format(text: str) -> None:
    check(scan_text(text))
    check(scan_markdown(text))
    check(scan_html(text))
