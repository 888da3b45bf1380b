"""Near-duplicate and repeated-passage quality of recite's dedup on a planted corpus.

Pages are extracted with trafilatura (``bare_extraction``, metadata on, its
own deduplication off). Then, with a fixed random seed:

* **Planted paragraphs**: paragraphs of one page are copied into another page,
  either exactly (sometimes with typographic changes that normalization
  removes: case, straight vs curly quotes) or lightly edited (one or two
  words substituted, inserted or deleted, or a clause appended).
* **Planted near-duplicate documents**: every page gets ``--variants``
  edited copies, each made by one kind of edit at a random strength: word
  substitutions, insertions, deletions, paragraph moves, added boilerplate,
  removed first/last paragraphs, truncation, or a mix. Strengths are drawn
  so that true similarities spread over [0.3, 1].

Ground truth is the exact Jaccard similarity of the word 5-gram shingle sets
(recite's normalization) of **every** pair of documents: pairs sharing at
least one shingle are counted through an inverted index, all other pairs
have similarity 0.

recite is measured on the path a run takes: the documents are stored in a
fresh DuckDB database of recite's schema (``storage.database.WorkingDatabase``,
``Store.save_documents`` with the passages a run splits and keys; each page
and its edited copies on one site), then the dedup step functions the flow's
tasks call (``pipeline.dedup_step``: signing and band keys, the band join
against the stored index, exact verification, clusters, passage indexing)
run over it, and the results are read back from the views users query.
Document pairs (``near_duplicates``, at the default threshold 0.8) are
scored on precision and recall at J >= 0.8, overall and per similarity band,
beside datasketch ``MinHashLSH(threshold=0.8)`` without verification on the
same shingles. Passage-level recall: planted exact copies must all be found
(``repeated_passages``, joined to ``passages`` for the documents holding
them), planted near copies with 3-gram Jaccard >= 0.8 at least 90%
(``near_repeated_passages``).

    python benchmarks/dedup_quality.py --corpus /work/shared/corpus/aeb/html
"""

import argparse
import itertools
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
from datasketch import MinHash, MinHashLSH

from dedup.lsh import params_fingerprint
from dedup.normalize import tokenize
from dedup.passages import PASSAGE_PARAMS, passage_hash
from dedup.shingles import shingle_hash_sets
from dedup.verify import jaccard
from extractors.passages import split_passages
from extractors.records import ExtractedDocument
from pipeline.dedup_step import DedupConfig, dedup_batch, index_passages, update_clusters
from pipeline.steps import passage_keys
from storage.database import WorkingDatabase
from storage.dedup_store import DedupStore
from storage.records import DocumentRow
from storage.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_corpus import load_texts  # a sibling module

BANDS = ((0.5, 0.7), (0.7, 0.8), (0.8, 0.85), (0.85, 0.9), (0.9, 1.0))
BOILERPLATE = (
    "Similar Posts",
    "Comments are closed.",
    "Kommentare sind geschlossen.",
    "Share this article: Facebook Twitter LinkedIn Email Print",
    "Sign up for our newsletter to get the latest news delivered to your inbox every morning.",
    "© 2022 All rights reserved. Reproduction without permission is prohibited.",
    "Related: More stories from our correspondents in Brussels, Moscow and Washington",
    "Advertisement",
    "Read more",
    "We use cookies to improve your experience on our website. By continuing you agree.",
)
EDIT_KINDS = (
    "substitute",
    "insert",
    "delete",
    "move",
    "boilerplate",
    "strip",
    "truncate",
    "mixed",
)


# --- planting -----------------------------------------------------------------


def _paragraphs(text: str) -> list[list[str]]:
    """Split a text into paragraphs (lines) of words."""
    return [line.split() for line in text.split("\n") if line.split()]


def _join(paragraphs: Sequence[Sequence[str]]) -> str:
    """Join paragraphs of words back into text."""
    return "\n".join(" ".join(words) for words in paragraphs if words)


def _edit_words(
    paragraphs: list[list[str]], rate: float, kind: str, rng: random.Random, vocab: Sequence[str]
) -> list[list[str]]:
    """Substitute, insert or delete about `rate` of the words, at random positions."""
    out: list[list[str]] = []
    for words in paragraphs:
        new: list[str] = []
        for word in words:
            if rng.random() >= rate:
                new.append(word)
            elif kind == "substitute":
                new.append(rng.choice(vocab))
            elif kind == "insert":
                new.extend((word, rng.choice(vocab)))
            # "delete": drop the word
        out.append(new)
    return out


def make_variant(
    text: str, kind: str, strength: float, rng: random.Random, vocab: Sequence[str]
) -> str:
    """Return an edited copy of `text`: one kind of edit at a strength in [0, 1]."""
    paras = _paragraphs(text)
    if kind in ("substitute", "insert", "delete"):
        paras = _edit_words(paras, 0.12 * strength, kind, rng, vocab)
    elif kind == "move":
        for _ in range(1 + int(3 * strength)):
            if len(paras) > 1:
                paras.insert(rng.randrange(len(paras)), paras.pop(rng.randrange(len(paras))))
    elif kind == "boilerplate":
        for _ in range(1 + int(4 * strength)):
            line = rng.choice(BOILERPLATE).split()
            paras.insert(0 if rng.random() < 0.3 else len(paras), line)
    elif kind == "strip":
        cut = 1 + int(2 * strength)
        head = rng.randint(0, cut)
        paras = paras[head : len(paras) - (cut - head)] or paras[:1]
    elif kind == "truncate":
        words = [w for p in paras for w in p]
        keep = max(1, int(len(words) * (1.0 - 0.5 * strength)))
        paras = _truncate(paras, keep)
    else:  # mixed: a little of everything
        paras = _edit_words(paras, 0.03 * strength, "substitute", rng, vocab)
        if len(paras) > 1:
            paras.insert(rng.randrange(len(paras)), paras.pop(rng.randrange(len(paras))))
        paras.append(rng.choice(BOILERPLATE).split())
        total = sum(len(p) for p in paras)
        paras = _truncate(paras, max(1, int(total * (1.0 - 0.15 * strength))))
    return _join(paras)


def _truncate(paras: list[list[str]], keep: int) -> list[list[str]]:
    """Keep the first `keep` words, paragraph structure included."""
    out: list[list[str]] = []
    for words in paras:
        if keep <= 0:
            break
        out.append(words[:keep])
        keep -= len(words)
    return out


@dataclass(frozen=True, slots=True)
class PlantedPassage:
    """A paragraph copied from one document into another, exactly or lightly edited."""

    source_doc: int
    target_doc: int
    source_text: str
    copy_text: str
    exact: bool


def _light_edit(words: list[str], rng: random.Random, vocab: Sequence[str]) -> list[str]:
    """Return `words` with one or two small edits (substitution, insertion, deletion, clause)."""
    words = list(words)
    for _ in range(rng.choice((1, 1, 2))):
        op = rng.choice(("substitute", "insert", "delete", "clause"))
        i = rng.randrange(len(words))
        if op == "substitute":
            words[i] = rng.choice(vocab)
        elif op == "insert":
            words.insert(i, rng.choice(vocab))
        elif op == "delete" and len(words) > 6:
            del words[i]
        else:
            words.extend(("he", "said."))
    return words


def _typographic(words: list[str], rng: random.Random) -> list[str]:
    """Return a copy that normalizes to the same text (case, quotes, apostrophes)."""
    text = " ".join(words)
    choice = rng.randrange(3)
    if choice == 0:
        text = text.upper()
    elif choice == 1:
        text = text.replace("'", "\u2019").replace('"', "\u201c")
    else:
        text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return text.split()


def plant_passages(
    docs: list[list[list[str]]], count: int, rng: random.Random, vocab: Sequence[str]
) -> list[PlantedPassage]:
    """Copy `count` paragraphs between documents (in place); half exact, half lightly edited."""
    planted: list[PlantedPassage] = []
    # Snapshot the candidate paragraphs first: inserting copies shifts the
    # positions of the paragraphs after them.
    sources = [
        (d, list(words))
        for d, paras in enumerate(docs)
        for words in paras
        if 12 <= len(words) <= 150
    ]
    if len(docs) < 2 or not sources:
        return planted
    for i in range(count):
        source_doc, words = rng.choice(sources)
        target_doc = rng.choice([d for d in range(len(docs)) if d != source_doc])
        exact = i % 2 == 0
        copy = _typographic(words, rng) if exact else _light_edit(words, rng, vocab)
        docs[target_doc].insert(rng.randint(0, len(docs[target_doc])), copy)
        planted.append(
            PlantedPassage(source_doc, target_doc, " ".join(words), " ".join(copy), exact)
        )
    return planted


# --- ground truth -------------------------------------------------------------


def all_pairs_jaccard(sets: Sequence[npt.NDArray[np.uint64]]) -> dict[tuple[int, int], float]:
    """Return the exact Jaccard of every pair sharing a shingle (all other pairs have 0)."""
    n = len(sets)
    sizes = np.array([s.size for s in sets], dtype=np.int64)
    hashes = np.concatenate(sets) if n else np.empty(0, dtype=np.uint64)
    owners = np.repeat(np.arange(n, dtype=np.int64), sizes)
    order = np.argsort(hashes, kind="stable")
    hashes, owners = hashes[order], owners[order]
    bounds = np.flatnonzero(np.diff(hashes)) + 1
    starts = np.concatenate(([0], bounds))
    lengths = np.diff(np.concatenate((starts, [hashes.size])))
    codes: list[npt.NDArray[np.int64]] = []
    # Group shingles by how many documents share them; each group size is one
    # vectorized pass over its (groups x size) member matrix.
    for g in np.unique(lengths[lengths > 1]).tolist():
        group_starts = starts[lengths == g]
        members = np.sort(owners[group_starts[:, None] + np.arange(g)], axis=1)
        for i, j in itertools.combinations(range(g), 2):
            codes.append(members[:, i] * n + members[:, j])
    if not codes:
        return {}
    pair_codes, counts = np.unique(np.concatenate(codes), return_counts=True)
    truth: dict[tuple[int, int], float] = {}
    for code, common in zip(pair_codes.tolist(), counts.tolist(), strict=True):
        a, b = divmod(code, n)
        truth[(a, b)] = common / (sizes[a] + sizes[b] - common)
    return truth


# --- scoring ------------------------------------------------------------------


def score(
    name: str,
    found: set[tuple[int, int]],
    truth: dict[tuple[int, int], float],
    threshold: float,
) -> dict[str, float]:
    """Print precision/recall at `threshold` and the fraction found per similarity band."""
    positives = {p for p, j in truth.items() if j >= threshold}
    hits = found & positives
    precision = len(hits) / len(found) if found else 1.0
    recall = len(hits) / len(positives) if positives else 1.0
    print(f"\n{name}: {len(found)} pairs reported, {len(positives)} true pairs at J >= {threshold}")
    print(f"  precision {precision:.4f}   recall {recall:.4f}")
    print("  band          pairs   reported  fraction")
    result = {"precision": precision, "recall": recall}
    for lo, hi in BANDS:
        in_band = {p for p, j in truth.items() if lo <= j < hi or (hi == 1.0 and j == 1.0)}
        got = len(in_band & found)
        fraction = got / len(in_band) if in_band else float("nan")
        kind = "recall" if lo >= threshold else "false-positive rate"
        print(
            f"  [{lo:.2f},{hi:.2f}{']' if hi == 1.0 else ')'}  {len(in_band):7d}  {got:9d}  "
            f"{fraction:8.4f}  ({kind})"
        )
        result[f"{lo:.2f}-{hi:.2f}"] = fraction
    below = {p for p in found if truth.get(p, 0.0) < 0.5}
    print(f"  reported pairs with J < 0.5: {len(below)}")
    return result


# --- recite, through the stored path a run takes --------------------------------

# Stored documents are numbered from 1 (benchmark document i is doc_id i + 1).
_ID_OFFSET = 1
_AT = datetime(2026, 1, 1, tzinfo=UTC)
_STORE_BATCH = 500


@contextmanager
def stored_corpus(
    docs: Sequence[str], sites: Sequence[str]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh working database (recite's schema) holding `docs`, each on its site."""
    with (
        tempfile.TemporaryDirectory(prefix="recite-dedup-quality-") as folder,
        WorkingDatabase(Path(folder) / "recite.duckdb") as db,
    ):
        store = Store(db.con)
        for start in range(0, len(docs), _STORE_BATCH):
            save_documents(store, docs, sites, range(start, min(start + _STORE_BATCH, len(docs))))
        yield db.con


def save_documents(
    store: Store, docs: Sequence[str], sites: Sequence[str], numbers: Sequence[int]
) -> None:
    """Store documents `numbers` with their passages, split and keyed as a run does."""
    rows = [
        DocumentRow(
            doc_id=i + _ID_OFFSET, kind="page", url=f"https://{sites[i]}/{i}", extracted_at=_AT,
            extractor="benchmark", extractor_version="1",
            content=ExtractedDocument(text=docs[i], hostname=sites[i]),
        )
        for i in numbers
    ]
    passages = [split_passages(row.content.text) for row in rows]  # as pipeline/steps.py does
    with store.transaction():
        store.save_documents(rows, passages, [passage_keys(p) for p in passages])


def run_recite(con: duckdb.DuckDBPyConnection, config: DedupConfig) -> int:
    """Run the flow's document dedup steps (flows/dedup_pass.py); return the candidates."""
    dstore = DedupStore(con)
    dstore.set_settings(config.dedup_threshold, config.boilerplate_min_docs)
    pending = dstore.documents_to_index(params_fingerprint(config.params))
    candidates = 0
    for start in range(0, len(pending), config.dedup_batch):
        _, found, _ = dedup_batch(
            dstore, pending[start : start + config.dedup_batch], config.params, _AT
        )
        candidates += found
    update_clusters(dstore, config.dedup_threshold, _AT)
    return candidates


def run_passages(con: duckdb.DuckDBPyConnection) -> None:
    """Run the flow's passage step: index new distinct passages, verify near repeats."""
    index_passages(DedupStore(con), _AT)


def near_duplicates(con: duckdb.DuckDBPyConnection) -> set[tuple[int, int]]:
    """The pairs of the `near_duplicates` view, as benchmark document numbers."""
    rows = con.execute("SELECT doc_a, doc_b FROM near_duplicates").fetchall()
    return {(int(a) - _ID_OFFSET, int(b) - _ID_OFFSET) for a, b in rows}


def run_datasketch(texts: Sequence[str], threshold: float, num_perm: int) -> set[tuple[int, int]]:
    """Run datasketch MinHashLSH (default hash, word 5-grams, no verification)."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    minhashes: list[MinHash] = []
    for i, text in enumerate(texts):
        tokens = tokenize(text)
        grams = [" ".join(tokens[j : j + 5]).encode() for j in range(max(1, len(tokens) - 4))]
        m = MinHash(num_perm=num_perm)
        if tokens:
            m.update_batch(grams)
        minhashes.append(m)
        lsh.insert(i, m)
    found: set[tuple[int, int]] = set()
    for i, m in enumerate(minhashes):
        for j in lsh.query(m):
            if j != i:
                found.add((min(i, j), max(i, j)))
    return found


def passage_recall(
    con: duckdb.DuckDBPyConnection, planted: Sequence[PlantedPassage], elapsed: float
) -> dict[str, float]:
    """Print and return passage-level recall of planted exact and near copies, from the views."""
    docs_with: defaultdict[int, set[int]] = defaultdict(set)
    for h, doc_id in con.execute(
        "SELECT r.passage_hash, p.doc_id FROM repeated_passages r "
        "JOIN passages p ON p.norm_hash = r.passage_hash"
    ).fetchall():
        docs_with[int(h)].add(int(doc_id) - _ID_OFFSET)
    near = {
        (int(a), int(b))
        for a, b in con.execute("SELECT hash_a, hash_b FROM near_repeated_passages").fetchall()
    }
    ((lines,),) = con.execute("SELECT count(*) FROM passages").fetchall()
    ((long_repeats, boilerplate),) = con.execute(
        "SELECT count(*) FILTER (WHERE passage_hash IN "
        "(SELECT norm_hash FROM passages WHERE counts_for_repeats)), "
        "count(*) FILTER (WHERE is_boilerplate) FROM repeated_passages"
    ).fetchall()
    exact = [p for p in planted if p.exact]
    exact_found = 0
    for p in exact:
        exact_found += {p.source_doc, p.target_doc} <= docs_with.get(passage_hash(p.source_text), set())
    edited = [p for p in planted if not p.exact]
    near_true: list[PlantedPassage] = []
    near_false: list[PlantedPassage] = []
    for p in edited:
        a, b = shingle_hash_sets([p.source_text, p.copy_text], PASSAGE_PARAMS.shingle_size)
        (near_true if jaccard(a, b) >= 0.8 else near_false).append(p)

    def is_found(p: PlantedPassage) -> bool:
        a, b = sorted((passage_hash(p.source_text), passage_hash(p.copy_text)))
        return a == b or (a, b) in near

    near_found = sum(is_found(p) for p in near_true)
    false_found = sum(is_found(p) for p in near_false)
    exact_recall = exact_found / len(exact) if exact else 1.0
    near_recall = near_found / len(near_true) if near_true else 1.0
    print(
        f"\npassages: {lines} lines, {len(docs_with)} repeated ({long_repeats} of 5 words or "
        f"more, {boilerplate} boilerplate), {len(near)} near pairs ({elapsed:.2f} s)"
    )
    print(f"  exact copies planted {len(exact)}, found {exact_found}: recall {exact_recall:.4f}")
    print(
        f"  near copies planted with 3-gram J >= 0.8: {len(near_true)}, found {near_found}: "
        f"recall {near_recall:.4f}"
    )
    print(
        f"  near copies planted with J < 0.8: {len(near_false)}, reported {false_found} "
        "(must be 0: reports are verified)"
    )
    return {"exact": exact_recall, "near": near_recall}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="directory of *.html(.gz) pages")
    parser.add_argument("--limit", type=int, default=None, help="use at most this many pages")
    parser.add_argument("--variants", type=int, default=6, help="edited copies per page")
    parser.add_argument("--passages", type=int, default=400, help="paragraphs copied across pages")
    parser.add_argument("--seed", type=int, default=20221231, help="random seed of the planting")
    parser.add_argument("--no-datasketch", action="store_true", help="skip the datasketch baseline")
    return parser.parse_args(argv)


@dataclass(frozen=True, slots=True)
class PlantedCorpus:
    """The benchmark's documents, the site of each, and the paragraphs planted in them."""

    docs: list[str]
    sites: list[str]
    planted: list[PlantedPassage]


def plant_corpus(originals: Sequence[str], args: argparse.Namespace) -> PlantedCorpus:
    """Plant paragraphs across the pages, then add `args.variants` edited copies of each."""
    rng = random.Random(args.seed)
    vocab = sorted({w for t in originals for w in t.split()})
    paras = [_paragraphs(t) for t in originals]
    planted = plant_passages(paras, args.passages, rng, vocab)
    bases = [_join(p) for p in paras]
    docs = list(bases)
    # A page's edited copies are on its site, so a site's boilerplate is what its copies add.
    sites = [f"site{b}.bench.test" for b in range(len(bases))]
    for b, base in enumerate(bases):
        for v in range(args.variants):
            kind = EDIT_KINDS[(v + rng.randrange(len(EDIT_KINDS))) % len(EDIT_KINDS)]
            docs.append(make_variant(base, kind, rng.random(), rng, vocab))
            sites.append(sites[b])
    return PlantedCorpus(docs, sites, planted)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the planted corpus, run both methods, print the scores."""
    args = parse_args(argv)
    config = DedupConfig()
    params = config.params
    start = time.perf_counter()
    originals = load_texts(args.corpus, args.limit)
    if not originals:
        print(f"no extractable pages under {args.corpus}", file=sys.stderr)
        return 1
    print(f"{len(originals)} pages extracted in {time.perf_counter() - start:.1f} s")
    corpus = plant_corpus(originals, args)
    docs = corpus.docs
    print(
        f"{len(docs)} documents ({len(originals)} pages + {len(docs) - len(originals)} "
        f"variants), {len(corpus.planted)} planted paragraphs"
    )

    start = time.perf_counter()
    sets = shingle_hash_sets(docs, params.shingle_size)
    truth = all_pairs_jaccard(sets)
    n_pairs = len(docs) * (len(docs) - 1) // 2
    print(
        f"ground truth: {n_pairs} pairs, {len(truth)} share a shingle "
        f"({time.perf_counter() - start:.1f} s)"
    )

    with stored_corpus(docs, corpus.sites) as con:
        start = time.perf_counter()
        n_candidates = run_recite(con, config)
        elapsed = time.perf_counter() - start
        recite = score(
            f"recite (stored in DuckDB; {params.bands}x{params.rows} bands, verified, "
            f"near_duplicates at {config.dedup_threshold}; {n_candidates} candidates, {elapsed:.2f} s)",
            near_duplicates(con),
            truth,
            config.dedup_threshold,
        )
        if not args.no_datasketch:
            start = time.perf_counter()
            ds_found = run_datasketch(docs, config.dedup_threshold, params.num_perm)
            score(
                f"datasketch MinHashLSH(threshold=0.8), no verification "
                f"({time.perf_counter() - start:.2f} s)",
                ds_found,
                truth,
                config.dedup_threshold,
            )
        start = time.perf_counter()
        run_passages(con)
        passages = passage_recall(con, corpus.planted, time.perf_counter() - start)

    checks = {
        "precision >= 0.99 at J >= 0.8": recite["precision"] >= 0.99,
        "recall >= 0.95 at J >= 0.8": recite["recall"] >= 0.95,
        "recall >= 0.85 in [0.80,0.85)": not recite["0.80-0.85"] < 0.85,
        "recall >= 0.99 at J >= 0.9": not recite["0.90-1.00"] < 0.99,
        "exact passage recall == 1.0": passages["exact"] == 1.0,
        "near passage recall >= 0.9": passages["near"] >= 0.9,
    }
    print()
    for name, ok in checks.items():
        print(f"  {'met   ' if ok else 'MISSED'} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
