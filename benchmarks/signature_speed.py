"""Signature throughput: datasketch ``MinHash.update_batch`` vs recite's vectorized signatures.

Both sides compute 128-permutation MinHash signatures of word 5-gram shingles
of the same extracted texts, on one pinned CPU core, tokenizing included:

* **datasketch**: ``MinHash(num_perm=128)`` (default SHA-1 hash, scheme
  affine32), ``update_batch`` with each shingle as UTF-8 bytes. Two
  tokenizers are timed: recite's (`dedup.normalize.tokenize`, the same
  tokens as recite, so the same work) and plain ``text.lower().split()``
  (the cheapest a datasketch user could write).
* **recite**: `dedup.shingles.shingle_hash_sets` over the batch (Unicode
  normalization per text, then table-driven tokenizing and hashing on one
  code-point array), then one `dedup.minhash.signatures` call.

Extraction (trafilatura) is done first and not timed. Each figure is the median
of ``--repeat`` interleaved rounds (the best is printed beside it). The headline
ratio is recite against datasketch with the same tokenizer, the median of the
rounds' ratios; the target is >= 10x (issue 20).

    python benchmarks/signature_speed.py --corpus /work/shared/corpus/aeb/html
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from datasketch import MinHash

from dedup.minhash import MinHashParams, datasketch_hashfunc, signatures
from dedup.normalize import tokenize
from dedup.shingles import shingle_hash_sets, shingle_hashes, shingles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_corpus import load_texts  # a sibling module


def _word_5grams(tokens: Sequence[str], k: int) -> list[bytes]:
    """Return the k-gram shingles of `tokens` as UTF-8 bytes (one shingle if shorter than k)."""
    if len(tokens) < k:
        return [" ".join(tokens).encode("utf-8")] if tokens else []
    return [" ".join(tokens[i : i + k]).encode("utf-8") for i in range(len(tokens) - k + 1)]


def run_datasketch(
    texts: Sequence[str], params: MinHashParams, tokenizer: Callable[[str], list[str]]
) -> None:
    """Compute datasketch signatures of every text with its default hash."""
    for text in texts:
        m = MinHash(num_perm=params.num_perm, seed=params.seed, scheme=params.scheme)
        m.update_batch(_word_5grams(tokenizer(text), params.shingle_size))


def run_recite(texts: Sequence[str], params: MinHashParams) -> None:
    """Compute recite signatures of every text: batched shingle hashes, then signatures."""
    signatures(shingle_hash_sets(texts, params.shingle_size), params)


def round_times(fns: dict[str, Callable[[], None]], repeat: int) -> dict[str, list[float]]:
    """Return the wall time of each function in each of `repeat` interleaved rounds."""
    # Interleaved rounds (a, b, c, a, b, c, ...) rather than a block per
    # function, so that a burst of load from other processes hits all sides.
    for fn in fns.values():
        fn()  # warm-up: caches, lazy imports
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def check_equality(texts: Sequence[str], params: MinHashParams) -> bool:
    """Check that recite's signatures equal datasketch's with recite's hashfunc on a few texts."""
    sample = list(texts[:3])
    ours = signatures([shingle_hashes(t, params.shingle_size) for t in sample], params)
    for text, row in zip(sample, ours, strict=True):
        m = MinHash(
            num_perm=params.num_perm,
            seed=params.seed,
            scheme=params.scheme,
            hashfunc=datasketch_hashfunc(params),
        )
        m.update_batch(shingles(text, params.shingle_size))
        if not np.array_equal(m.hashvalues, row):
            return False
    return True


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="directory of *.html(.gz) pages")
    parser.add_argument("--limit", type=int, default=None, help="use at most this many pages")
    parser.add_argument("--repeat", type=int, default=9,
                        help="interleaved timed rounds (the median is reported, and the best)")
    parser.add_argument(
        "--cpu", type=int, default=None, help="pin to this CPU core (default: last)"
    )
    parser.add_argument("--num-perm", type=int, default=128)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print documents/s for each side and their ratio."""
    args = parse_args(argv)
    if not hasattr(os, "sched_setaffinity"):
        return _run(args)
    saved = os.sched_getaffinity(0)
    cpu = args.cpu if args.cpu is not None else max(saved)
    os.sched_setaffinity(0, {cpu})
    print(f"pinned to CPU {cpu}")
    try:
        return _run(args)
    finally:
        os.sched_setaffinity(0, saved)


def _run(args: argparse.Namespace) -> int:
    """Load the texts, time both sides and print the figures."""
    texts = load_texts(args.corpus, args.limit)
    if not texts:
        print(f"no extractable pages under {args.corpus}", file=sys.stderr)
        return 1
    params = MinHashParams(num_perm=args.num_perm, bands=1, rows=1)
    words = [len(t.split()) for t in texts]
    print(
        f"{len(texts)} texts, {sum(words)} words (median {statistics.median(words):.0f}, "
        f"max {max(words)}), {params.num_perm} permutations, word {params.shingle_size}-grams"
    )
    print(f"recite == datasketch(hashfunc=recite) on a sample: {check_equality(texts, params)}")

    n = len(texts)
    sets = [shingle_hashes(t) for t in texts]

    def tokenize_all() -> None:
        for text in texts:
            tokenize(text)

    def signatures_only() -> None:
        signatures(sets, params)

    def split_lower(text: str) -> list[str]:
        return text.lower().split()

    rounds = round_times(
        {
            "datasketch, recite tokenizer": lambda: run_datasketch(texts, params, tokenize),
            "datasketch, str.split tokenizer": lambda: run_datasketch(texts, params, split_lower),
            "recite reference tokenize() only": tokenize_all,
            "recite vectorized (all)": lambda: run_recite(texts, params),
            "recite signatures only": signatures_only,
        },
        args.repeat,
    )
    print(f"{'median of ' + str(args.repeat) + ' rounds (best)':34s}")
    for name, seconds in rounds.items():
        median = statistics.median(seconds)
        print(f"{name:34s} {median:8.3f} s  {n / median:10.0f} docs/s  (best {min(seconds):.3f} s)")
    ours = rounds["recite vectorized (all)"]

    def ratio(name: str) -> tuple[float, float]:
        """Median of the rounds' ratios, and the ratio of the best times."""
        per_round = [theirs / mine for theirs, mine in zip(rounds[name], ours, strict=True)]
        return statistics.median(per_round), min(rounds[name]) / min(ours)

    same, split = ratio("datasketch, recite tokenizer"), ratio("datasketch, str.split tokenizer")
    print(f"ratio recite / datasketch (same tokenizer):    {same[0]:.1f}x median of rounds, "
          f"{same[1]:.1f}x best against best  (target >= 10x)")
    print(f"ratio recite / datasketch (str.split):         {split[0]:.1f}x median of rounds, "
          f"{split[1]:.1f}x best against best")
    return 0


if __name__ == "__main__":
    sys.exit(main())
