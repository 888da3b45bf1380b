from extractors.content import extract_html, extract_page
from tests.site import PAGES


def test_article_text_and_metadata() -> None:
    html = PAGES["/news/geneva-talks"][2]
    doc = extract_html(html, "http://news.example/news/geneva-talks")
    assert doc is not None
    assert doc.title and doc.title.startswith("Geneva talks end without breakthrough")
    assert "Diplomats from Russia" in doc.text
    assert "All rights reserved" not in doc.text
    assert doc.published == "2022-01-10"


def test_canonical_url_is_reported() -> None:
    doc = extract_html(PAGES["/news/borrell"][2], "http://news.example/news/borrell")
    assert doc is not None and doc.canonical_url == "http://news.example/news/borrell-eu"


def test_extraction_is_stateless() -> None:
    html = PAGES["/news/geneva-talks"][2]
    first = extract_html(html, "http://a.example/1")
    second = extract_html(html, "http://a.example/1")
    assert first == second


def test_page_without_main_text() -> None:
    assert extract_page(PAGES["/empty-article"][2], "http://a.example/").reason == "no_main_text"
    broken = extract_page("", "http://a.example/")
    assert broken.document is None and broken.reason != "ok"
