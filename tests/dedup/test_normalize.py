"""Normalization and tokenization: each stated rule, and the scripts without spaces."""

import pytest

from dedup.normalize import normalize, tokenize, tokenized_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello,   World!", "hello world"),
        ("Straße STRASSE", "strasse strasse"),  # casefold
        ("Sergueï Zelenśkyy café", "serguei zelenskyy cafe"),  # diacritics stripped
        ("ﬁne ＦＵＬＬ", "fine full"),  # NFKC
        ("Russia’s Russia's Russia´s", "russias russias russias"),  # apostrophes join
        ("“quoted” «text» — dash – en-dash", "quoted text dash en dash"),
        ("on 10 January 2022 at 10:30, 1,000.5 views", "on 0 january 0 at 0 0 views"),
        ("2022-01-10 covid19", "0 covid0"),
        ("secu\u00adrity zero\u200bwidth", "security zerowidth"),  # format characters deleted
        ("snake_case $100 #tag @user", "snake case 0 tag user"),
        ("ok ❤️ 👍🏽 fine", "ok fine"),  # emoji and variation selectors are symbols
        ("  \t\n  ", ""),
        ("", ""),
        ("!!! ... ???", ""),
    ],
)
def test_normalize_rules(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_script_specific_marks_are_kept() -> None:
    # Devanagari vowel signs and Japanese voicing marks are spelling, not accents.
    assert normalize("नमस्ते दुनिया") == "नमस्ते दुनिया"
    assert normalize("がぎぐ") == "がぎぐ"
    assert normalize("한국어 텍스트") == "한국어 텍스트"  # Hangul recomposes after NFKD


def test_ascii_fast_path_agrees_with_full_path() -> None:
    # The same ASCII words inside a non-ASCII text normalize the same way.
    ascii_text = "It's 10:30 -- the_end, said O'Brien (2022)."
    assert normalize(ascii_text + " é") == normalize(ascii_text) + " e"


def test_chinese_without_spaces_gives_character_tokens() -> None:
    assert tokenize("北京欢迎你。") == ["北", "京", "欢", "迎", "你"]
    assert normalize("北京欢迎你。") == "北京欢迎你"  # normalize keeps the run whole


def test_japanese_mixed_scripts() -> None:
    tokens = tokenize("東京都は2022年に「新しい」政策を発表した。NATO会議")
    assert tokens[:5] == ["東", "京", "都", "は", "0"]
    assert "nato" in tokens  # Latin words inside stay words
    assert all(len(t) == 1 for t in tokens if t != "nato")


def test_hangul_keeps_word_tokens() -> None:
    assert tokenize("한국어 텍스트입니다") == ["한국어", "텍스트입니다"]


def test_tokenized_text_is_single_spaced() -> None:
    t = tokenized_text("  漢字 and  かな、 words ")
    assert t == "漢 字 and か な words"
    assert "  " not in t and t == t.strip()


def test_empty_and_punctuation_only_have_no_tokens() -> None:
    assert tokenize("") == []
    assert tokenize(" ,.;!? ") == []
