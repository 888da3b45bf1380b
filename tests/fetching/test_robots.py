"""RFC 9309 matching: groups, product tokens, longest match, wildcards, encoding."""

from __future__ import annotations

import pytest

from fetching.robots import RobotsRules, agent_token, normalize_path, parse_robots

ROBOTS = """
# comment line
User-agent: googlebot
Disallow: /

User-agent: Recite
User-agent: otherbot
Disallow: /private/
Allow: /private/public
Disallow: /*.pdf$
Disallow: /search?q=
Allow: /fish*.php
Disallow: /fish
Crawl-delay: 2.5

user-agent: *
disallow: /everything
"""


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", True),
        ("/private/", False),
        ("/private/x", False),
        ("/private/public", True),  # longer Allow beats shorter Disallow
        ("/private/publicity", True),
        ("/doc.pdf", False),
        ("/doc.pdf?x=1", True),  # $ anchors the end
        ("/search?q=ukraine", False),
        ("/search", True),
        ("/fish", False),
        ("/fish123.php", True),  # "/fish*.php" (10) is longer than "/fish" (5)
        ("/everything", True),  # the * group does not apply: we have our own
        ("/robots.txt", True),
    ],
)
def test_recite_group_rules(path: str, allowed: bool) -> None:
    rules = parse_robots(ROBOTS, "recite")
    assert rules.allowed(path) is allowed
    assert rules.crawl_delay == 2.5


def test_wildcard_group_when_no_group_names_us() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /x\n", "recite")
    assert not rules.allowed("/x/y")
    assert rules.allowed("/y")


def test_no_groups_allows_all() -> None:
    assert parse_robots("# nothing here\nSitemap: https://x/s.xml\n", "recite").allowed("/a")
    assert parse_robots("", "recite").allowed("/a")


def test_equal_length_tie_goes_to_allow() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /page\nAllow: /page\n", "recite")
    assert rules.allowed("/page")


def test_empty_disallow_allows_all() -> None:
    assert parse_robots("User-agent: recite\nDisallow:\n", "recite").allowed("/anything")


def test_groups_naming_us_are_merged() -> None:
    text = "User-agent: recite\nDisallow: /a\n\nUser-agent: recite\nDisallow: /b\n"
    rules = parse_robots(text, "recite")
    assert not rules.allowed("/a") and not rules.allowed("/b")


def test_product_token_match_is_case_insensitive_and_ignores_version() -> None:
    rules = parse_robots("User-agent: ReCiTe/2.0\nDisallow: /\n", "recite")
    assert not rules.allowed("/x")


def test_other_agent_with_our_name_as_prefix_does_not_match() -> None:
    rules = parse_robots("User-agent: recitebot\nDisallow: /\n", "recite")
    assert rules.allowed("/x")


def test_percent_encoding_is_normalized() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /caf%c3%a9\nDisallow: /ä\n", "recite")
    assert not rules.allowed("/caf%C3%A9/menu")
    assert not rules.allowed("/%C3%A4")
    assert rules.allowed("/cafe")
    assert normalize_path("/%7euser/%2f") == "/~user/%2F"


def test_lines_without_a_group_are_ignored_and_bad_delay() -> None:
    rules = parse_robots("Disallow: /\nUser-agent: *\nCrawl-delay: soon\n", "recite")
    assert rules.allowed("/")
    assert rules.crawl_delay is None


def test_disallow_all_rules() -> None:
    rules = RobotsRules(disallow_all=True)
    assert not rules.allowed("/")
    assert rules.allowed("/robots.txt")


@pytest.mark.parametrize(
    ("user_agent", "token"),
    [("recite/0.1 (+https://x)", "recite"), ("My-Bot_2", "my-bot_"), ("Recite", "recite")],
)
def test_agent_token(user_agent: str, token: str) -> None:
    assert agent_token(user_agent) == token
