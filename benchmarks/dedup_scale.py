"""Scale of recite's dedup library: throughput per stage, index size, incremental cost.

This is the pure-library part (no DuckDB): documents are held in memory. It
builds ``--docs`` synthetic documents from the paragraphs and vocabulary of a
corpus (or from a built-in word list when no corpus is given), plants
near-duplicates among them, then times every stage of the pipeline over the
whole batch:

    shingle sets -> signatures -> band keys -> candidate pairs -> verify -> cluster

and then the nightly case: ``--new`` new documents (half of them edited
copies of old ones) against the stored band keys of the old ones. The
incremental cost should follow the number of new documents, not the size of
the index.

    python benchmarks/dedup_scale.py --corpus /work/shared/corpus/aeb/html --docs 20000
"""

import argparse
import gzip
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import trafilatura

from dedup.cluster import DocInfo, cluster
from dedup.lsh import band_keys, candidate_pairs
from dedup.minhash import MinHashParams, signatures
from dedup.shingles import shingle_hash_sets
from dedup.verify import verify

T = TypeVar("T")
_FALLBACK_WORDS = (
    "security europe russia union talks minister foreign said would nato ukraine treaty "
    "guarantees january moscow brussels washington diplomacy border troops gas deliveries "
    "sanctions escalation proposal agenda coordination participation bloc summit the of and "
    "to in a is that for on with as by at from it an be this which or are was were has have"
)


def load_paragraphs(corpus: Path | None, limit: int | None) -> list[list[str]]:
    """Return the paragraphs (as word lists) of the corpus pages, or synthetic ones."""
    if corpus is None:
        rng = random.Random(0)
        words = _FALLBACK_WORDS.split()
        return [[rng.choice(words) for _ in range(rng.randint(20, 80))] for _ in range(2000)]
    paths = sorted([*corpus.rglob("*.html.gz"), *corpus.rglob("*.html")])[:limit]
    paragraphs: list[list[str]] = []
    for path in paths:
        raw = path.read_bytes()
        html = gzip.decompress(raw) if path.name.endswith(".gz") else raw
        doc = trafilatura.bare_extraction(html, with_metadata=True, deduplicate=False)
        text = getattr(doc, "text", None) if doc is not None else None
        if text:
            paragraphs.extend(line.split() for line in text.split("\n") if len(line.split()) > 5)
    return paragraphs


def make_documents(
    count: int, paragraphs: Sequence[list[str]], rng: random.Random, dup_rate: float
) -> list[str]:
    """Make `count` documents of random paragraphs with 30% of words replaced; plant near-dups."""
    vocab = sorted({w for p in paragraphs for w in p})
    docs: list[str] = []
    for _ in range(count):
        if docs and rng.random() < dup_rate:
            docs.append(edit(rng.choice(docs), 0.02, rng, vocab))
            continue
        chosen = rng.sample(paragraphs, k=min(len(paragraphs), rng.randint(4, 12)))
        docs.append(edit("\n".join(" ".join(p) for p in chosen), 0.3, rng, vocab))
    return docs


def edit(text: str, rate: float, rng: random.Random, vocab: Sequence[str]) -> str:
    """Replace about `rate` of the words of `text` by random vocabulary words."""
    lines = []
    for line in text.split("\n"):
        lines.append(
            " ".join(rng.choice(vocab) if rng.random() < rate else w for w in line.split())
        )
    return "\n".join(lines)


def timed(label: str, items: int, fn: Callable[[], T]) -> T:
    """Run `fn`, print its wall time and items/s, and return its result."""
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    rate = items / seconds if seconds > 0 else float("inf")
    print(f"  {label:34s} {seconds:8.3f} s  {rate:12.0f} docs/s")
    return result


def batched_sets(texts: Sequence[str], k: int, batch: int = 1000) -> list[npt.NDArray[np.uint64]]:
    """Shingle sets in batches (the flow's unit of work)."""
    sets: list[npt.NDArray[np.uint64]] = []
    for start in range(0, len(texts), batch):
        sets.extend(shingle_hash_sets(texts[start : start + batch], k))
    return sets


def doc_infos(ids: Sequence[int], texts: Sequence[str]) -> list[DocInfo]:
    """Give every document a first-seen time, length and URL for the canonical rule."""
    t0 = datetime(2022, 1, 1, tzinfo=UTC)
    return [
        DocInfo(i, t0 + timedelta(minutes=i), len(t), f"https://example.test/{i}")
        for i, t in zip(ids, texts, strict=True)
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="directory of *.html(.gz) pages")
    parser.add_argument("--limit", type=int, default=None, help="use at most this many pages")
    parser.add_argument("--docs", type=int, default=20_000, help="documents in the stored index")
    parser.add_argument("--new", type=int, default=1_000, help="new documents of the night")
    parser.add_argument("--dup-rate", type=float, default=0.05, help="share of planted near-dups")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the documents, time each stage, then the incremental run."""
    args = parse_args(argv)
    rng = random.Random(args.seed)
    params = MinHashParams()
    paragraphs = load_paragraphs(args.corpus, args.limit)
    if not paragraphs:
        print("no paragraphs to build documents from", file=sys.stderr)
        return 1
    old_texts = make_documents(args.docs, paragraphs, rng, args.dup_rate)
    words = sum(len(t.split()) for t in old_texts)
    print(f"{len(old_texts)} documents, {words} words ({words / len(old_texts):.0f} per document)")

    n = len(old_texts)
    old_ids = list(range(n))
    print("full batch:")
    old_sets = timed("shingle sets", n, lambda: batched_sets(old_texts, params.shingle_size))
    old_sigs = timed("signatures", n, lambda: signatures(old_sets, params))
    old_keys = timed("band keys", n, lambda: band_keys(old_sigs, params))
    no_keys = np.empty((0, params.bands), dtype=np.uint64)
    candidates = timed(
        "candidate pairs", n, lambda: candidate_pairs(old_keys, old_ids, no_keys, [])
    )
    by_id = dict(enumerate(old_sets))
    pairs = timed("verify", n, lambda: verify(candidates, by_id, params.threshold))
    infos = doc_infos(old_ids, old_texts)
    members = timed("cluster", n, lambda: cluster(pairs, infos))
    print(
        f"  {len(candidates)} candidates, {len(pairs)} verified pairs, "
        f"{len({m.cluster_id for m in members})} clusters"
    )
    shingle_bytes = sum(s.nbytes for s in old_sets)
    print(
        f"  index: band keys {old_keys.nbytes / n:.0f} B/doc, signatures "
        f"{old_sigs.nbytes / n:.0f} B/doc, shingle sets {shingle_bytes / n:.0f} B/doc"
    )

    m = args.new
    vocab = sorted({w for p in paragraphs for w in p})
    new_texts = [
        edit(rng.choice(old_texts), 0.02, rng, vocab) if i % 2 == 0 else t
        for i, t in enumerate(make_documents(m, paragraphs, rng, 0.0))
    ]
    new_ids = list(range(n, n + m))
    print(f"incremental: {m} new documents against {n} stored")
    new_sets = timed("shingle sets", m, lambda: batched_sets(new_texts, params.shingle_size))
    new_keys = timed(
        "signatures + band keys", m, lambda: band_keys(signatures(new_sets, params), params)
    )
    new_candidates = timed(
        "candidate pairs (new x stored)",
        m,
        lambda: candidate_pairs(new_keys, new_ids, old_keys, old_ids),
    )
    by_id.update(zip(new_ids, new_sets, strict=True))
    new_pairs = timed("verify", m, lambda: verify(new_candidates, by_id, params.threshold))
    all_infos = infos + doc_infos(new_ids, new_texts)
    timed("re-cluster (all pairs)", m, lambda: cluster([*pairs, *new_pairs], all_infos))
    print(f"  {len(new_candidates)} candidates, {len(new_pairs)} verified pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
