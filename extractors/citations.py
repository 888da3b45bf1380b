"""Find the URLs a seed cites: plain-text URLs, Markdown links and HTML `<a href>`."""

import re
from collections.abc import Iterable, Iterator

import lxml.html

from extractors.records import Citation, CitationKind, CitationScan, RejectedCitation
from extractors.urls import InvalidUrl, normalize_url, strip_trailing_punctuation

# RFC 3986 allows many characters; stop at whitespace, quotes and angle brackets, which
# prose uses around URLs but which must be percent-encoded inside one.
_TEXT_URL = re.compile(r"""\bhttps?://[^\s<>"'`\u00a0\u3000]+""", re.IGNORECASE)
# CommonMark link destinations: <anything but > and newline>, or balanced parentheses.
# The link text stops at a "[" as well as a "]": otherwise every "[" of a line without a
# "]" scans to the line's end, quadratic in a seed that is one long line of "[" (issue
# 17). "[a [b](u)" still finds u, from its inner "[".
_MD_LINK = re.compile(
    r"\[[^\[\]\n]*\]\(\s*(?:<([^>\n]*)>|((?:[^()\s<>]|\([^()\s]*\))+))(?:\s+\"[^\"]*\")?\s*\)"
)
# CommonMark autolinks hold no "<" (§6.5); excluding it keeps "<http://<http://..." linear.
_MD_AUTOLINK = re.compile(r"<(https?://[^<>\s]+)>", re.IGNORECASE)
_IGNORED_SCHEMES = ("javascript:", "data:", "mailto:", "tel:", "#")


def scan_text(text: str) -> CitationScan:
    """Citations in plain text: every http(s) URL."""
    return _collect(_text_urls(text))


def scan_markdown(text: str) -> CitationScan:
    """Citations in Markdown: links, autolinks, then bare URLs in the remaining text."""
    found: list[tuple[str, CitationKind, str | None]] = []
    for match in _MD_LINK.finditer(text):
        found.append((match.group(1) or match.group(2) or "", CitationKind.MARKDOWN, None))
    for match in _MD_AUTOLINK.finditer(text):
        found.append((match.group(1), CitationKind.MARKDOWN, None))
    rest = _MD_AUTOLINK.sub(" ", _MD_LINK.sub(" ", text))
    found.extend(_text_urls(rest))
    return _collect(found)


def scan_html(html: str) -> CitationScan:
    """Citations in HTML: `<a href>` resolved against `<base href>` when present."""
    try:
        root = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return scan_text(html)
    bases = root.xpath("//base/@href")
    base = str(bases[0]).strip() if bases else None
    found: list[tuple[str, CitationKind, str | None]] = []
    for href in root.xpath("//a/@href | //area/@href"):
        found.append((str(href), CitationKind.HTML, base))
    text = root.text_content() if root is not None else ""
    found.extend(_text_urls(text))
    return _collect(found)


def scan_seed(text: str, suffix: str) -> CitationScan:
    """Dispatch on the seed's file suffix (.html/.htm, .md/.markdown, anything else as text)."""
    suffix = suffix.lower()
    if suffix in (".html", ".htm", ".xhtml"):
        return scan_html(text)
    if suffix in (".md", ".markdown"):
        return scan_markdown(text)
    return scan_text(text)


def _text_urls(text: str) -> Iterator[tuple[str, CitationKind, str | None]]:
    for match in _TEXT_URL.finditer(text):
        yield strip_trailing_punctuation(match.group(0)), CitationKind.TEXT, None


def _collect(found: Iterable[tuple[str, CitationKind, str | None]]) -> CitationScan:
    """Normalize, deduplicate (first occurrence wins) and sort out rejected links."""
    citations: dict[str, Citation] = {}
    rejected: list[RejectedCitation] = []
    for raw, kind, base in found:
        raw = raw.strip()
        if not raw:
            continue
        if raw.lower().startswith(_IGNORED_SCHEMES):
            rejected.append(RejectedCitation(raw[:200], "not_a_web_link"))
            continue
        if base is None and "://" not in raw and not raw.startswith("//"):
            rejected.append(RejectedCitation(raw[:200], "relative_link_without_base"))
            continue
        try:
            url = normalize_url(raw, base)
        except InvalidUrl as exc:
            rejected.append(RejectedCitation(raw[:200], f"invalid_url: {exc}"))
            continue
        citations.setdefault(url, Citation(url=url, raw=raw, kind=kind))
    web = tuple(c for c in citations.values() if c.url.startswith(("http://", "https://")))
    other = tuple(c for c in citations.values() if not c.url.startswith(("http://", "https://")))
    return CitationScan(citations=web, rejected=tuple(rejected), other_schemes=other)
