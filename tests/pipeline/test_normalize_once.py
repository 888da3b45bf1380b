"""A stored text is normalized once: its passage keys and its content hash come from one pass."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import MinHashParams, content_hash, keys_and_content_hash, normalize, passage_key
from dedup.normalize import normalize_lines
from dedup.passages import _Remembered
from extractors.passages import looks_hard_wrapped, split_passages
from pipeline.dedup_step import sign_batch

# Characters that normalization treats specially, mixed into arbitrary Unicode.
SPECIAL = list("\n\n\n \t\r-.,:/'’´0123456789aé\u0301\u00ad\u3000\u309b\u093f#*>ß\u2028\x85日本")
CHARS = st.one_of(st.characters(), st.sampled_from(SPECIAL))
LINE = st.text(CHARS, min_size=40, max_size=60).map(lambda s: s.replace("\n", " "))


def check(text: str) -> None:
    passages = [p.text for p in split_passages(text)]
    keys, hashed = keys_and_content_hash(passages)
    assert keys == [passage_key(p) for p in passages]
    assert hashed == content_hash(text)


@settings(max_examples=3000, suppress_health_check=list(HealthCheck))
@given(st.text(CHARS, max_size=80))
def test_any_text(text: str) -> None:
    check(text)


@settings(max_examples=500, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(LINE, st.just(""), st.just("# Head"), st.just("- item 1.2")),
                min_size=3, max_size=12))
def test_hard_wrapped_and_markdown_like_texts(lines: list[str]) -> None:
    check("\n".join(lines))


def test_hard_wrapped_text_joins_lines_into_passages() -> None:
    text = "\n".join(["Ceasefire talks in Geneva ended on 10 Jan 2022 without a deal, " * 1] * 4
                     + ["", "Officials said the next round would be in Vienna, on 1.3.2022."])
    assert looks_hard_wrapped(text) and len(split_passages(text)) == 2
    check(text)


def test_signing_takes_the_known_hash_and_computes_the_others() -> None:
    rows = [(1, "sha-known", "Talks ended without a deal"), (2, "sha-other", "Another text here")]
    signed = sign_batch(rows, MinHashParams(), {"sha-known": 12345})
    assert signed.batch.norm_content_hashes == [12345, content_hash("Another text here")]


@settings(max_examples=2000, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(CHARS, max_size=30), max_size=8))
def test_keys_of_any_passages_are_their_passage_keys(passages: list[str]) -> None:
    keys, _ = keys_and_content_hash(passages)
    assert keys == [passage_key(p) for p in passages]


@settings(max_examples=2000, suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(CHARS, max_size=30).map(lambda s: s.replace("\n", " ")), max_size=8))
def test_lines_normalized_together_as_each_alone(lines: list[str]) -> None:
    assert normalize_lines(lines) == [normalize(line) for line in lines]


def test_passages_keyed_before_are_looked_up_with_the_same_keys() -> None:
    first = ["Talks in Geneva ended on 10 Jan 2022.", "Ｆｕｌｌ ｗｉｄｔｈ naïve café text here", "x"]
    second = ["A new first line of the copy, 3 words", *reversed(first), first[0]]
    keys_and_content_hash(first)  # remembered now
    for min_tokens in (1, 5, 9):
        keys, hashed = keys_and_content_hash(second, min_tokens)
        assert keys == [passage_key(p, min_tokens) for p in second]
        assert hashed == content_hash("\n".join(second))


def test_remembered_passages_are_bounded_least_recently_used_first() -> None:
    remembered = _Remembered(max_chars=100)
    a, b, c, d = ("a" * 20, 1, 1), ("b" * 10, 2, 1), ("c" * 10, 3, 1), ("d" * 20, 4, 1)
    remembered.add({a[0]: a, b[0]: b})
    assert remembered.get([a[0]]) == [a]  # used: b is now the oldest
    remembered.add({c[0]: c})  # 80 characters held
    remembered.add({d[0]: d})  # 120: b goes, then 100
    assert remembered.get([a[0], b[0], c[0], d[0]]) == [a, None, c, d]
