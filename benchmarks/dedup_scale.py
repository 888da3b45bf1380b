"""Scale of recite's dedup: the incremental path a nightly run takes, against growing stores.

For each store size in ``--stores`` a fresh database is built synthetically (documents,
random signatures with their band keys, and stored pairs for ``--pair-rate`` of the
documents, bulk-inserted through Arrow, plus ``--new / 2`` real documents that the
night's copies will match), then, in a fresh process, ``--new`` documents (half of them
edited copies of stored ones) are added through `pipeline.dedup_step` and
`storage.dedup_store`, the code a run executes: documents to index, signing and band keys
stored, the band join against the whole index, exact-duplicate join, verification, and
the clusters updated from the changed pairs (the run's tail; the time a rebuild from
every stored pair takes is printed beside it, as before issue 20). It prints the time of
each step and the peak memory (maximum resident set) of that process. The documents are made from the
paragraphs and vocabulary of ``--corpus`` (a built-in word list without one).

    python benchmarks/dedup_scale.py --corpus ../shared/corpus/aeb/html \
        --stores 100000,300000,1000000 --new 10000
"""

import argparse
import hashlib
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dedup.lsh import band_keys, params_fingerprint
from dedup.minhash import MinHashParams, signatures
from dedup.shingles import shingle_hash_sets
from dedup.verify import content_hash

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_corpus import load_texts  # a sibling module

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
    return [
        line.split()
        for text in load_texts(corpus, limit)
        for line in text.split("\n")
        if len(line.split()) > 5
    ]


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








_BUILD_CHUNK = 100_000
_T0 = datetime(2022, 1, 1, tzinfo=UTC)


def batched_sets(texts: Sequence[str], k: int, batch: int = 1000) -> list[npt.NDArray[np.uint64]]:
    """Shingle sets in batches (the flow's unit of work)."""
    sets: list[npt.NDArray[np.uint64]] = []
    for start in range(0, len(texts), batch):
        sets.extend(shingle_hash_sets(texts[start : start + batch], k))
    return sets


@dataclass(frozen=True, slots=True)
class NightTexts:
    """The texts of a night: stored documents the copies come from, and the new ones."""

    related: list[str]
    new: list[str]


def night_texts(args: argparse.Namespace) -> NightTexts:
    """`--new` new texts, every other one an edited copy of one of `--new / 2` related ones."""
    rng = random.Random(args.seed)
    paragraphs = load_paragraphs(args.corpus, args.limit)
    vocab = sorted({w for p in paragraphs for w in p})
    related = make_documents(max(1, args.new // 2), paragraphs, rng, 0.0)
    fresh = make_documents(args.new, paragraphs, rng, 0.0)
    new = [edit(related[i // 2], 0.02, rng, vocab) if i % 2 == 0 else t
           for i, t in enumerate(fresh)]
    return NightTexts(related, new)


def build_store(db: Path, size: int, texts: NightTexts, pair_rate: float, seed: int) -> None:
    """A database of `size` indexed documents: synthetic ones, then the related real ones."""
    from pipeline.dedup_step import DedupConfig, rebuild_clusters
    from storage.database import WorkingDatabase
    from storage.dedup_store import DedupStore

    params = MinHashParams()
    rng = np.random.default_rng(seed)
    synthetic = size - len(texts.related)
    with WorkingDatabase(db) as wdb:
        for start in range(0, synthetic, _BUILD_CHUNK):
            ids = np.arange(start + 1, min(synthetic, start + _BUILD_CHUNK) + 1, dtype=np.int64)
            sigs = rng.integers(0, 1 << 32, size=(ids.size, params.num_perm), dtype=np.uint64)
            docs = [f"stored document {i}" for i in ids]
            norm = [int(x) for x in rng.integers(-(1 << 62), 1 << 62, ids.size)]
            _insert_indexed(wdb.con, ids, docs, sigs, norm, params)
        ids = np.arange(synthetic + 1, size + 1, dtype=np.int64)
        sets = batched_sets(texts.related, params.shingle_size)
        hashes = [content_hash(t) for t in texts.related]
        _insert_indexed(wdb.con, ids, texts.related, signatures(sets, params), hashes, params,
                        [int(x.size) for x in sets])
        _insert_pairs(wdb.con, rng, synthetic, int(size * pair_rate / 2))
        # The clusters earlier nights left (the pairs above went in without marks).
        rebuild_clusters(DedupStore(wdb.con), DedupConfig().dedup_threshold, _T0)
        wdb.con.execute("CHECKPOINT")


def _insert_indexed(
    con: Any, ids: npt.NDArray[np.int64], texts: Sequence[str], sigs: npt.NDArray[Any],
    norm_hashes: Sequence[int], params: MinHashParams, shingles: Sequence[int] | None = None,
) -> None:
    """Insert documents with their signatures and band keys, as the flow stores them."""
    import pyarrow as pa

    n = ids.size
    sha = [f"{i:064x}" for i in ids]
    first_seen = [_T0 + timedelta(seconds=int(i)) for i in ids]
    docs = pa.table({
        "doc_id": ids, "kind": ["page"] * n, "url": [f"https://example.test/{i}" for i in ids],
        "text": list(texts), "text_chars": [len(t) for t in texts], "content_sha256": sha,
        "first_seen": pa.array(first_seen, pa.timestamp("us", tz="UTC")),
    })
    flat = pa.array(sigs.astype(np.uint64).ravel(), pa.uint64())
    offsets = pa.array(np.arange(0, n * params.num_perm + 1, params.num_perm, dtype=np.int32))
    signed = pa.table({
        "doc_id": ids, "content_sha256": sha,
        "norm_content_hash": pa.array(list(norm_hashes), pa.int64()),
        "shingles": pa.array(list(shingles) if shingles else [300] * n, pa.int32()),
        "signature": pa.ListArray.from_arrays(offsets, flat),
    })
    keys = band_keys(sigs, params)
    bands = pa.table({
        "doc_id": np.repeat(ids, params.bands),
        "band": np.tile(np.arange(params.bands, dtype=np.int16), n),
        "band_key": keys.ravel(),
    })
    fingerprint = params_fingerprint(params)
    con.register("b_docs", docs)
    con.register("b_sigs", signed)
    con.register("b_bands", bands)
    con.execute(
        "INSERT INTO documents (doc_id, kind, url, text, text_chars, content_sha256, "
        "extractor, extractor_version, first_seen, extracted_at) "
        "SELECT doc_id, kind, url, text, text_chars, content_sha256, 'synthetic', '1', "
        "first_seen, first_seen FROM b_docs"
    )
    con.execute(
        "INSERT INTO doc_signatures SELECT doc_id, content_sha256, norm_content_hash, shingles, "
        "?, ?, ?, ?, ?, signature, ? FROM b_sigs",
        [params.scheme, params.seed, params.num_perm, params.shingle_size, fingerprint, _T0],
    )
    con.execute("INSERT INTO doc_bands SELECT * FROM b_bands")
    for name in ("b_docs", "b_sigs", "b_bands"):
        con.unregister(name)


def _insert_pairs(con: Any, rng: np.random.Generator, synthetic: int, count: int) -> None:
    """Verified pairs among the synthetic documents, as earlier nights would have stored."""
    import pyarrow as pa

    if count <= 0 or synthetic < 2:
        return
    a = rng.integers(1, synthetic, size=count)
    b = np.minimum(a + rng.integers(1, 50, size=count), synthetic)
    keep = a < b
    pairs = pa.table({"doc_a": a[keep], "doc_b": b[keep],
                      "jaccard": rng.uniform(0.8, 1.0, int(keep.sum()))})
    con.register("b_pairs", pairs)
    con.execute(
        "INSERT OR REPLACE INTO duplicate_pairs SELECT DISTINCT ON (doc_a, doc_b) doc_a, doc_b, "
        "jaccard, false, ? FROM b_pairs", [_T0],
    )
    con.unregister("b_pairs")


def add_night(db: Path, texts: NightTexts, size: int, batch: int) -> dict[str, float]:
    """Store the night's documents, then time the flow's dedup path over them, by step."""
    from pipeline.dedup_step import DedupConfig, dedup_batch, rebuild_clusters, update_clusters
    from storage.database import WorkingDatabase

    params = MinHashParams()
    times: dict[str, float] = {}
    with WorkingDatabase(db) as wdb:
        ids = np.arange(size + 1, size + len(texts.new) + 1, dtype=np.int64)
        _insert_new_documents(wdb.con, ids, texts.new)
        dstore = _timed_store(wdb.con, times)
        start = time.perf_counter()
        pending = dstore.documents_to_index(params_fingerprint(params))
        for at in range(0, len(pending), batch):
            # The body of the flow's dedup-batch task (flows/tasks.py).
            dedup_batch(dstore, pending[at : at + batch], params, datetime.now(UTC))
        tail = time.perf_counter()
        # The tail of a run: the clusters of the documents whose pairs changed (issue 20).
        update_clusters(dstore, DedupConfig().dedup_threshold, datetime.now(UTC))
        times["tail: clusters update"] = time.perf_counter() - tail
        times["total"] = time.perf_counter() - start
        full = time.perf_counter()
        rebuild_clusters(dstore, DedupConfig().dedup_threshold, datetime.now(UTC))
        times["before: clusters rebuilt from every pair"] = time.perf_counter() - full
        row = wdb.con.execute("SELECT count(*) FROM duplicate_pairs WHERE doc_b > ?",
                              [size]).fetchall()[0]
        times["new pairs"] = float(row[0]) if row else 0.0
        times["indexed"] = float(len(pending))
    times["peak MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return times


def _insert_new_documents(con: Any, ids: npt.NDArray[np.int64], texts: Sequence[str]) -> None:
    import pyarrow as pa

    now = datetime.now(UTC)
    table = pa.table({
        "doc_id": ids, "url": [f"https://example.test/new/{i}" for i in ids], "text": list(texts),
        "text_chars": [len(t) for t in texts],
        "content_sha256": [hashlib.sha256(t.encode()).hexdigest() for t in texts],
        "stamp": pa.array([now] * ids.size, pa.timestamp("us", tz="UTC")),
    })
    con.register("b_new", table)
    con.execute(
        "INSERT INTO documents (doc_id, kind, url, text, text_chars, content_sha256, extractor, "
        "extractor_version, first_seen, extracted_at) SELECT doc_id, 'page', url, text, "
        "text_chars, content_sha256, 'synthetic', '1', stamp, stamp FROM b_new"
    )
    con.unregister("b_new")


_TIMED = ("documents_to_index", "rows_to_sign", "save_signatures", "candidate_pairs",
          "exact_pairs", "texts", "save_pairs")


def _timed_store(con: Any, times: dict[str, float]) -> Any:
    """A DedupStore that adds the wall time of each of its calls to `times`."""
    from storage.dedup_store import DedupStore

    store = DedupStore(con)
    for name in _TIMED:
        method = getattr(store, name)

        def timed(*a: Any, _m: Any = method, _n: str = name, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return _m(*a, **k)
            finally:
                times[_n] = times.get(_n, 0.0) + time.perf_counter() - start

        setattr(store, name, timed)
    return store


def store_benchmark(args: argparse.Namespace) -> int:
    """Build each store size and time adding the night's documents to it, each in a child."""
    sizes = [int(x) for x in args.stores.split(",")]
    work = Path(tempfile.mkdtemp(prefix="recite-dedup-scale-"))
    try:
        texts_path = work / "texts.json"
        texts = night_texts(args)
        # JSON, not pickle: the children run this file as __main__, under another module name.
        texts_path.write_text(json.dumps({"related": texts.related, "new": texts.new}))
        print(f"night: {len(texts.new)} new documents ({len(texts.new) // 2} edited copies of "
              f"stored ones), dedup batches of {args.dedup_batch}")
        results = {}
        for size in sizes:
            db = work / f"store-{size}" / "recite.duckdb"
            start = time.perf_counter()
            _child(["--_build", str(db), str(size), str(texts_path), str(args.pair_rate),
                    str(args.seed)])
            built = time.perf_counter() - start
            mb = db.with_name(db.name + ".work").stat().st_size / 1e6
            out = _child(["--_add", str(db), str(size), str(texts_path),
                          str(args.dedup_batch)])
            results[size] = json.loads(out.strip().splitlines()[-1])
            r = results[size]
            print(f"store of {size} documents (built in {built:.0f} s, {mb:.0f} MB): add "
                  f"{len(texts.new)} in {r['total']:.2f} s, {int(r['new pairs'])} new pairs, "
                  f"peak memory {r['peak MiB']:.0f} MiB")
            steps = ", ".join(f"{k} {r[k]:.2f}" for k in _TIMED if k in r)
            rest = r["total"] - sum(r[k] for k in _TIMED if k in r)
            print(f"  DuckDB steps (s): {steps}")
            print(f"  the rest (shingles, MinHash, band keys, verification, tail): {rest:.2f} s")
            print(f"  tail: clusters updated from the changed pairs in "
                  f"{r['tail: clusters update']:.3f} s (before: rebuilt from every stored pair "
                  f"in {r['before: clusters rebuilt from every pair']:.3f} s, not in the total)")
        first, last = results[sizes[0]], results[sizes[-1]]
        tails = [results[n]["tail: clusters update"] for n in sizes]
        print(f"tail (clusters update) at {sizes[-1]} / {sizes[0]} documents: "
              f"{tails[-1]:.3f} / {tails[0]:.3f} s = {tails[-1] / max(tails[0], 1e-9):.2f}x "
              "(target: flat)")
        print(f"time to add {len(texts.new)}: {sizes[-1]} / {sizes[0]} documents = "
              f"{last['total'] / first['total']:.2f}x (target <= 2); peak memory at "
              f"{sizes[-1]}: {last['peak MiB'] / 1024:.2f} GiB (target <= 4)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _child(extra: list[str]) -> str:
    done = subprocess.run([sys.executable, __file__, *extra], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{extra[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def child_main(argv: Sequence[str]) -> int:
    """The build and add roles, each in its own process (so peak memory is the step's own)."""
    role, db, size, texts_path, *rest = argv
    texts = NightTexts(**json.loads(Path(texts_path).read_text()))
    if role == "--_build":
        build_store(Path(db), int(size), texts, float(rest[0]), int(rest[1]))
    else:
        print(json.dumps(add_night(Path(db), texts, int(size), int(rest[0]))))
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="directory of *.html(.gz) pages")
    parser.add_argument("--limit", type=int, default=None, help="use at most this many pages")
    parser.add_argument("--new", type=int, default=1_000, help="new documents of the night")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stores", default="100000,300000,1000000",
                        help="comma-separated store sizes (documents stored before the night)")
    parser.add_argument("--pair-rate", type=float, default=0.02,
                        help="share of stored documents in a stored pair")
    parser.add_argument("--dedup-batch", type=int, default=2000,
                        help="documents signed per batch, as the flow's dedup_batch")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Time adding the night's documents to each store size."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("--_build", "--_add"):
        return child_main(argv)
    return store_benchmark(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
