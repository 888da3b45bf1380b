"""The vectorized tokenizer gives exactly the reference tokens' hashes."""

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.hashing import U64Array, token_hash
from dedup.normalize import tokenize
from dedup.tokens import batch_token_hashes

from .seed_001 import SEED_001

# Characters that exercise every rule: digits of several scripts, number
# joiners, apostrophes, dashes, marks, format characters, CJK, Thai, astral.
_TRICKY = (
    "ab Z09٣߂๑'’ʼ´＇-–—−.,:/ _\t\n\u00ad\u200b\u200d\ufe0f\u0301\u0941\u3099"
    "漢字かなカナ한국ไทย\u0e31é ﬁ ＡＢ１２ ŉ ″ 𝟘𝐛 𠀀 😀 \U000e0101 \U000110bd ǅ ß İ\uffff"
)


def text_token_hashes(text: str) -> U64Array:
    """The vectorized hashes of one text's tokens."""
    return batch_token_hashes([text])[0]


def _reference(text: str) -> list[int]:
    return [token_hash(t) for t in tokenize(text)]


@given(st.text(alphabet=st.sampled_from(_TRICKY), max_size=60))
@settings(max_examples=1500, deadline=None)
def test_tricky_characters(text: str) -> None:
    assert text_token_hashes(text).tolist() == _reference(text)


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60))
@settings(max_examples=1500, deadline=None)
def test_any_unicode(text: str) -> None:
    assert text_token_hashes(text).tolist() == _reference(text)


def test_seed_and_edge_cases() -> None:
    for text in [
        SEED_001,
        "",
        " ",
        "1.2.3 1..2 .5 5. 2021–22 10:30 covid19 19covid 1'000",
        "北京欢迎你。東京2022年",
        "a" * 10_000,
    ]:
        assert text_token_hashes(text).tolist() == _reference(text)


@given(st.lists(st.text(alphabet=st.sampled_from(_TRICKY), max_size=30), max_size=6))
@settings(max_examples=500, deadline=None)
def test_batches_split_exactly_per_text(texts: list[str]) -> None:
    hashes, offsets = batch_token_hashes(texts)
    assert offsets.size == len(texts) + 1
    for i, text in enumerate(texts):
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == _reference(text)
