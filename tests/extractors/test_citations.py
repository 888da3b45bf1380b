from extractors.citations import scan_html, scan_markdown, scan_seed, scan_text
from extractors.records import CitationKind
from extractors.urls import normalize_url, strip_trailing_punctuation


def urls(scan):  # type: ignore[no-untyped-def]
    return [c.url for c in scan.citations]


def test_plain_text_urls_with_trailing_punctuation() -> None:
    scan = scan_text("See https://x.org/a). And (https://y.org/b), or https://z.org/c?q=1.")
    assert urls(scan) == ["https://x.org/a", "https://y.org/b", "https://z.org/c?q=1"]


def test_balanced_parentheses_are_kept() -> None:
    assert strip_trailing_punctuation("https://en.wikipedia.org/wiki/Foo_(bar).") == (
        "https://en.wikipedia.org/wiki/Foo_(bar)"
    )


def test_markdown_links_autolinks_and_bare_urls() -> None:
    scan = scan_markdown(
        "Read [the report](https://x.org/r_(1) \"title\"), <https://y.org/a> "
        "and https://z.org/p. Also [js](javascript:alert(1))."
    )
    assert urls(scan) == ["https://x.org/r_%281%29", "https://y.org/a", "https://z.org/p"]
    assert {c.kind for c in scan.citations} == {CitationKind.MARKDOWN, CitationKind.TEXT}
    assert [r.reason for r in scan.rejected] == ["not_a_web_link"]


def test_html_links_resolve_against_base_and_reject_relative_without_base() -> None:
    scan = scan_html('<base href="https://b.org/dir/"><a href="../x">x</a><a href="#top">t</a>')
    assert urls(scan) == ["https://b.org/x"]
    scan = scan_html('<a href="/only/relative">r</a><a href="data:text/html,hi">d</a>')
    assert urls(scan) == []
    assert sorted(r.reason for r in scan.rejected) == [
        "not_a_web_link", "relative_link_without_base",
    ]


def test_other_schemes_are_kept_for_the_guard_to_refuse() -> None:
    scan = scan_html('<a href="FTP://files.example.org/x">f</a>')
    assert urls(scan) == []
    assert [c.url for c in scan.other_schemes] == ["ftp://files.example.org/x"]


def test_same_url_cited_twice_is_one_citation() -> None:
    scan = scan_text("https://x.org/a and again https://X.org/a#section and https://x.org/a?utm_source=z")
    assert urls(scan) == ["https://x.org/a"]


def test_normalization() -> None:
    assert normalize_url("HTTPS://www.Example.com:443/a/../b?b=2&a=1#frag") == (
        "https://www.example.com/b?a=1&b=2"
    )
    assert normalize_url("https://youtu.be/qctkkT_OqAk?t=2470") == "https://youtu.be/qctkkT_OqAk?t=2470"


def test_example_seed_000_cites_three_urls() -> None:
    text = (
        "threatening steps by the West, including NATO expansion eastward.\n\n"
        "https://ec.europa.eu/commission/presscorner/detail/en/IP_21_3010\n"
        "https://www.themoscowtimes.com/2025/11/03/russia-still-escalating-troop-buildup\n"
        "https://youtu.be/qctkkT_OqAk?t=2470\n"
    )
    assert len(scan_seed(text, ".txt").citations) == 3


# Issue 17: the forms below once took quadratic time; their answers are unchanged.
def test_many_unbalanced_closing_brackets_are_stripped() -> None:
    url = "https://en.wikipedia.org/wiki/Foo_(bar)"
    assert strip_trailing_punctuation(url + ")" * 5000 + ".") == url
    assert strip_trailing_punctuation("https://h.example/a))].,") == "https://h.example/a"
    assert strip_trailing_punctuation("https://h.example/(a)(b)") == "https://h.example/(a)(b)"


def test_markdown_link_inside_an_open_bracket_and_hostile_lines() -> None:
    urls = [c.url for c in scan_markdown("[a [b](https://h.example/u) and [[[[").citations]
    assert urls == ["https://h.example/u"]
    assert not scan_markdown("[" * 100_000).citations
    found = scan_markdown("<http://" * 10_000 + "<https://h.example/v>").citations
    assert [c.url for c in found] == ["https://h.example/v"]
