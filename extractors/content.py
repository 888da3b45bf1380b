"""Main text and metadata of an HTML page with trafilatura, stateless."""

import re
from dataclasses import dataclass, fields
from enum import StrEnum
from urllib.parse import urljoin

import lxml.html
import trafilatura

from extractors.records import ExtractedDocument

EXTRACTOR = "trafilatura"
EXTRACTOR_VERSION = str(trafilatura.__version__)
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_CANONICAL = re.compile(r"""\brel\s*=\s*["']?canonical\b""", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
# ExtractedDocument's fields that trafilatura's metadata gives, and its name where it differs.
_METADATA = tuple(f.name for f in fields(ExtractedDocument) if f.name not in ("text", "canonical_url"))
_TRAFILATURA_NAMES = {"published": "date"}
# <link> belongs in <head>, which real pages keep within their first few hundred KB.
_HEAD_BYTES = 256 * 1024


def extract_html(html: str, url: str | None = None) -> ExtractedDocument | None:
    """Extract main text and metadata; None when the page has no main text."""
    try:
        # deduplicate=False: trafilatura's dedup keeps a per-process cache, so the same
        # page would extract differently on later calls (DESIGN.md, stateless extraction).
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            deduplicate=False,
            include_comments=False,
        )
    except (ValueError, TypeError, AttributeError, lxml.etree.LxmlError):
        # trafilatura raises on some malformed trees; a broken page is "no main text".
        return None
    if doc is None or isinstance(doc, dict) or not (doc.text or "").strip():
        return None
    metadata = {
        name: _clean(getattr(doc, _TRAFILATURA_NAMES.get(name, name))) for name in _METADATA
    }
    return ExtractedDocument(
        text=str(doc.text).strip(), canonical_url=find_canonical(html, url), **metadata
    )


def find_canonical(html: str, url: str | None) -> str | None:
    """The page's `<link rel=canonical>` URL (RFC 6596), absolute, if it declares one."""
    for tag in _LINK_TAG.findall(html[:_HEAD_BYTES]):
        if _CANONICAL.search(tag):
            match = _HREF.search(tag)
            href = str(next((g for g in match.groups() if g), "")) if match else ""
            if href.strip():
                return urljoin(url or "", href.strip())
    return None


def html_to_text(html: str) -> str:
    """All visible text of an HTML fragment, for seeds trafilatura finds no main text in."""
    try:
        text: str = lxml.html.document_fromstring(html).text_content()
        return str(text)
    except (ValueError, lxml.etree.LxmlError):
        return ""


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class ExtractReason(StrEnum):
    """How extracting a page ended: the code before the ':' of `Extraction.reason`."""

    OK = "ok"
    NO_MAIN_TEXT = "no_main_text"
    EXTRACT_ERROR = "extract_error"


@dataclass(frozen=True, slots=True)
class Extraction:
    """The result of extracting one page: a document, or the reason there is none."""

    document: ExtractedDocument | None
    # An ExtractReason; extract_error is followed by ': ' and the error.
    reason: str


# A page to extract: its text, or its body when the body is UTF-8 (decoded where extracted).
Html = str | bytes


def extract_page(html: Html, url: str | None = None) -> Extraction:
    """Extract one page without ever raising: `reason` is 'ok', 'no_main_text' or an error.

    `html` as bytes is UTF-8, decoded here with errors replaced: the flow sends a fetched
    UTF-8 body to the extraction workers as it came, cheaper to pickle and to load than
    its text, which that decoding gives back exactly (issue 20).
    """
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    try:
        document = extract_html(html, url)
    except Exception as exc:
        error = f"{ExtractReason.EXTRACT_ERROR}: {type(exc).__name__}: {exc}"
        return Extraction(None, error[:500])
    return Extraction(
        document, ExtractReason.OK if document is not None else ExtractReason.NO_MAIN_TEXT
    )
