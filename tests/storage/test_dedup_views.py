"""The dedup views over a real DuckDB store, filled by the flow's dedup steps.

Documents: the dedup steps (pipeline.dedup_step) sign, probe and verify, and
near_duplicates shows the pairs at the threshold; bad input goes through them whole.
Passages: the views are the one definition of the repeat rules: exact repeats, the
short-passage rule (passages.counts_for_repeats, set when stored) and per-site
boilerplate; near repeats are indexed and verified by the flow's passage step.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import pytest

from dedup.lsh import params_fingerprint
from dedup.normalize import tokenize
from dedup.passages import passage_hash, passage_key
from dedup.verify import DuplicatePair
from extractors.records import ExtractedDocument, Passage
from pipeline.dedup_step import DedupConfig, dedup_batch, index_passages
from storage.dedup_store import DedupStore
from storage.records import DocumentRow
from storage.schema import migrate
from storage.store import Store
from tests.dedup.seed_001 import SEED_001

HEADLINE = (
    "Borrell says that any discussion between the US and Russia about security in Europe "
    "must lead the EU"
)
AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    migrate(con)
    return con


def save(
    con: duckdb.DuckDBPyConnection, doc_id: int, text: str, site: str = "a.example",
    min_tokens: int | None = None,
) -> None:
    """Store one document with one passage per non-empty line, keyed as a run keys them."""
    doc = DocumentRow(
        doc_id=doc_id, kind="page", url=f"https://{site}/{doc_id}", extracted_at=AT,
        extractor="test", extractor_version="1",
        content=ExtractedDocument(text=text, hostname=site),
    )
    # Lines, not split_passages: it reads a few short lines as one hard-wrapped paragraph.
    lines = [line for line in text.splitlines() if line.strip()]
    passages = [Passage(i, line) for i, line in enumerate(lines)]
    keys = [
        passage_key(p.text) if min_tokens is None else passage_key(p.text, min_tokens)
        for p in passages
    ]
    store = Store(con)
    with store.transaction():
        store.save_document(doc, passages, keys)


def repeats(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[int, int]]:
    """passage_hash -> (occurrences, documents) of the repeated_passages view."""
    rows = con.execute(
        "SELECT passage_hash, occurrences, documents FROM repeated_passages"
    ).fetchall()
    return {int(h): (int(n), int(d)) for h, n, d in rows}


def boilerplate(con: duckdb.DuckDBPyConnection, min_docs: int) -> set[int]:
    """The passage hashes the repeated_passages view marks as boilerplate at `min_docs`."""
    DedupStore(con).set_settings(0.8, min_docs)
    rows = con.execute("SELECT passage_hash FROM repeated_passages WHERE is_boilerplate")
    return {int(h) for (h,) in rows.fetchall()}


def near_pairs(con: duckdb.DuckDBPyConnection, texts: Sequence[str]) -> list[tuple[int, int, float]]:
    """Store each text as a document, run the passage step, read near_repeated_passages."""
    for doc_id, text in enumerate(texts, start=1):
        save(con, doc_id, text, site=f"site{doc_id}.example")
    index_passages(DedupStore(con), AT)
    rows = con.execute("SELECT hash_a, hash_b, jaccard FROM near_repeated_passages").fetchall()
    return [(int(a), int(b), float(j)) for a, b, j in rows]


def near_duplicates(
    con: duckdb.DuckDBPyConnection, texts: dict[int, str]
) -> list[DuplicatePair]:
    """Store the texts, run the flow's document dedup step, read the near_duplicates view."""
    for doc_id, text in texts.items():
        save(con, doc_id, text)
    config = DedupConfig()
    dstore = DedupStore(con)
    dstore.set_settings(config.dedup_threshold, config.boilerplate_min_docs)
    pending = dstore.documents_to_index(params_fingerprint(config.params))
    dedup_batch(dstore, pending, config.params, AT)
    rows = con.execute(
        "SELECT doc_a, doc_b, jaccard FROM near_duplicates ORDER BY doc_a, doc_b"
    ).fetchall()
    return [DuplicatePair(int(a), int(b), float(j)) for a, b, j in rows]


# --- documents (moved from tests/dedup/test_bad_input.py) ------------------------------


def test_empty_text(con: duckdb.DuckDBPyConnection) -> None:
    assert near_duplicates(con, {1: "", 2: "", 3: "   ", 4: "?!"}) == []


def test_one_word_document(con: duckdb.DuckDBPyConnection) -> None:
    # One shingle; equal one-word documents are exact duplicates, others are not.
    pairs = near_duplicates(con, {1: "Hello", 2: "hello!", 3: "World"})
    assert pairs == [DuplicatePair(1, 2, 1.0)]


def test_chinese_text_without_spaces(con: duckdb.DuckDBPyConnection) -> None:
    text = (
        "欧盟外交与安全政策高级代表博雷利表示，美国和俄罗斯之间关于欧洲安全的任何讨论都必须有欧盟参与。"
        "他强调，当务之急是避免局势进一步升级。"
    )
    assert len(tokenize(text)) > 40  # character tokens, 5-character shingles
    one_char = text.replace("博雷利", "博瑞利")  # J = 0.84
    four_chars = text.replace("当务之急", "首要任务")  # J = 0.76
    unrelated = "完全不同的一段文字，讲的是天气和体育比赛。"
    pairs = near_duplicates(con, {1: text, 2: one_char, 3: four_chars, 4: unrelated})
    assert [(p.doc_a, p.doc_b) for p in pairs] == [(1, 2)]


def test_japanese_text_without_spaces(con: duckdb.DuckDBPyConnection) -> None:
    text = (
        "ボレル上級代表は、欧州の安全保障に関する米国とロシアの協議には欧州連合が参加しなければ"
        "ならないと述べた。当面の優先事項はさらなる緊張の激化を避けることだと強調した。"
    )
    edited = text + "と語った。"
    pairs = near_duplicates(con, {1: text, 2: edited})
    assert len(pairs) == 1 and pairs[0].jaccard >= 0.8


def test_megabyte_long_text(con: duckdb.DuckDBPyConnection) -> None:
    big = (SEED_001 + "\n") * 260  # about one megabyte
    assert len(big.encode("utf-8")) > 1_000_000
    other = big + " and one more closing sentence about security."
    pairs = near_duplicates(con, {1: big, 2: other, 3: SEED_001})
    # Repeating a text does not change its shingle set (only its seams add
    # a few shingles), so the big text is a near duplicate of the seed too.
    assert (1, 2) in {(p.doc_a, p.doc_b) for p in pairs}
    assert all(p.jaccard >= 0.8 for p in pairs)


def test_megabyte_without_any_space(con: duckdb.DuckDBPyConnection) -> None:
    blob = "x" * 1_000_000
    assert near_duplicates(con, {1: blob, 2: blob + "y"}) == []


def test_megabyte_of_chinese_without_spaces(con: duckdb.DuckDBPyConnection) -> None:
    text = ("北京欢迎你，欧盟外交与安全政策高级代表表示任何讨论都必须有欧盟参与。" * 30_000)[
        :1_000_000
    ]
    pairs = near_duplicates(con, {1: text, 2: text + "他说。"})
    assert [(p.doc_a, p.doc_b) for p in pairs] == [(1, 2)]


# --- passages ---------------------------------------------------------------------------


def test_seed_headline_occurs_three_times(con: duckdb.DuckDBPyConnection) -> None:
    save(con, 1, SEED_001)
    found = repeats(con)
    assert list(found) == [passage_hash(HEADLINE)]
    assert found[passage_hash(HEADLINE)] == (3, 1)
    locations = con.execute(
        "SELECT doc_id, ordinal FROM passages WHERE norm_hash = ? ORDER BY ALL",
        [passage_hash(HEADLINE)],
    ).fetchall()
    assert locations == [(1, 0), (1, 3), (1, 4)]


def test_copied_paragraph_across_documents(con: duckdb.DuckDBPyConnection) -> None:
    paragraph = [line for line in SEED_001.splitlines() if line.strip()][5]
    save(con, 1, SEED_001)
    save(con, 2, "Another outlet's intro.\n" + paragraph.upper(), site="b.example")
    assert repeats(con)[passage_hash(paragraph)] == (2, 2)


def test_short_passages_are_not_repeats(con: duckdb.DuckDBPyConnection) -> None:
    save(con, 1, "Similar Posts")
    save(con, 2, "Similar posts")
    assert repeats(con) == {}
    # Counted (a shorter minimum when stored), the same two are a repeat.
    save(con, 3, "Similar Posts", site="b.example", min_tokens=1)
    save(con, 4, "Similar posts", site="c.example", min_tokens=1)
    assert len(repeats(con)) == 1


def test_empty_store_has_no_repeats(con: duckdb.DuckDBPyConnection) -> None:
    assert repeats(con) == {}
    assert near_pairs(con, []) == []


def test_boilerplate_per_site(con: duckdb.DuckDBPyConnection) -> None:
    closed = "Kommentare sind geschlossen."
    similar = "Similar Posts"
    save(con, 1, closed)
    save(con, 2, closed)
    save(con, 3, f"{closed}\n{closed}")  # twice in one doc counts once
    save(con, 4, similar, site="b.example")
    save(con, 5, similar, site="c.example")  # two sites, one doc each
    save(con, 6, similar, site="b.example")
    assert boilerplate(con, min_docs=3) == {passage_hash(closed)}
    assert boilerplate(con, min_docs=2) == {passage_hash(closed), passage_hash(similar)}
    # Boilerplate counts passages of every length: these are under 5 words.
    assert repeats(con)[passage_hash(closed)] == (4, 3)


def test_near_repeated_passages_found_and_verified(con: duckdb.DuckDBPyConnection) -> None:
    paragraph = (
        "The immediate priority is to avoid further escalation, he said, stressing that any "
        "discussion on European security must take place in coordination with the EU."
    )
    edited = paragraph.replace("immediate", "urgent")
    unrelated = "Riabkov asked to consider Moscow's proposals on security guarantees next week."
    pairs = near_pairs(con, [paragraph, edited, unrelated, paragraph, "Similar Posts"])
    assert len(pairs) == 1
    ((hash_a, hash_b, jaccard),) = pairs
    assert {hash_a, hash_b} == {passage_hash(paragraph), passage_hash(edited)}
    assert hash_a < hash_b
    assert 0.8 <= jaccard < 1.0


def test_near_repeats_reject_heavier_edits(con: duckdb.DuckDBPyConnection) -> None:
    paragraph = " ".join(f"word{i}" for i in range(20))
    heavy = paragraph.replace("word5", "x").replace("word12", "y").replace("word17", "z")
    assert near_pairs(con, [paragraph, heavy]) == []


def test_japanese_passages_near_repeat(con: duckdb.DuckDBPyConnection) -> None:
    text = (
        "ボレル上級代表は、欧州の安全保障に関する米国とロシアの協議には欧州連合が参加しなければ"
        "ならないと述べた。当面の優先事項はさらなる緊張の激化を避けることだと強調した。"
    )
    edited = text + "と語った。"
    assert near_pairs(con, [text, edited])[0][2] >= 0.8
