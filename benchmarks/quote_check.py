"""Quote checks at scale: the corpus 3-gram index, and quotations looked up in it.

For each corpus size in ``--docs`` a fresh database (DuckDB, the run's memory limit) gets
that many page documents (paragraphs of ``--corpus`` with 30% of the words replaced, or
a built-in word list without one), then the quote step's own functions
(`pipeline/quotes.py` over `storage/quotes.py`) run, each timed:

1. index build: every page's word 3-grams into the inverted index (as a first night);
2. quote lookup: ``--quotes`` quotations (half copied from stored pages, a quarter of
   those with one word changed; half made up) looked up in the index and verified;
3. citation checks: the same quotations in seeds of 10, each seed citing 3 pages;
4. a night: ``--new`` new pages indexed and matched against every stored quotation
   (the cost follows the new pages, not the corpus).

It prints each time, the index size (postings, and the database file's growth) and the
peak memory (maximum resident set) of the process.

    python benchmarks/quote_check.py --corpus ../shared/corpus/aeb/html \
        --docs 10000,100000 --quotes 10000
"""

import argparse
import contextlib
import hashlib
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.quotes import check_citations, index_pages, index_quotes, scan_seeds
from storage.quotes import QuoteStore
from storage.schema import migrate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dedup_scale import load_paragraphs, make_documents  # a sibling module

_T0 = datetime(2022, 1, 1, tzinfo=UTC)
_INDEX_BATCH = 2000
_QUOTES_PER_SEED = 10
_CITED_PER_SEED = 3


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print times, index sizes and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="folder of *.html(.gz) pages (words)")
    parser.add_argument("--limit", type=int, help="corpus pages read (default all)")
    parser.add_argument("--docs", default="10000,100000", help="corpus sizes, comma-separated")
    parser.add_argument("--quotes", type=int, default=10_000, help="quotations looked up")
    parser.add_argument("--new", type=int, default=1000, help="pages of the night after")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory limit (the run's)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args(argv)
    paragraphs = load_paragraphs(args.corpus, args.limit)
    for size in (int(s) for s in args.docs.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            run_size(args, size, paragraphs, Path(tmp) / "bench.duckdb")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS of this process): {peak:.0f} MB")
    return 0


def run_size(args: argparse.Namespace, size: int, paragraphs: list[list[str]], db: Path) -> None:
    """Build a corpus of `size` pages and time the quote step's parts over it."""
    rng = random.Random(args.seed)
    texts = make_documents(size + args.new, paragraphs, rng, 0.0)
    stored, night = texts[:size], texts[size:]
    con = duckdb.connect(str(db), config={"threads": args.threads})
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    migrate(con)
    add_pages(con, stored, 0)
    con.execute("CHECKPOINT")
    before = db.stat().st_size
    store = QuoteStore(con)
    counts: Counter[str] = Counter()
    print(f"corpus of {size} documents ({sum(len(t.split()) for t in stored) // size} words "
          "each on average)")

    held = _reset_peak()
    start = time.perf_counter()
    while index_pages(store, _INDEX_BATCH, counts):
        pass
    con.execute("CHECKPOINT")
    built = time.perf_counter() - start
    postings, pages = store.index_size()
    grown = (db.stat().st_size - before) / 1e6
    print(f"  index build: {built:.1f} s for {pages} documents, {postings} postings, "
          f"{grown:.0f} MB in the database file")

    seeds = make_quotes(args.quotes, stored, paragraphs, rng)
    add_seeds(con, seeds, size)
    quotes = [q for _, qs in seeds for q in qs]
    scan_seeds(store, 3, _T0, counts)
    start = time.perf_counter()
    index_quotes(store, counts)
    looked = time.perf_counter() - start
    print(f"  quote lookup: {looked:.1f} s for {len(quotes)} quotations "
          f"({counts['sightings']} (quotation, document) sightings)")

    start = time.perf_counter()
    check_citations(store, _T0, counts)
    checked = time.perf_counter() - start
    results = {r: counts[r] for r in ("exact", "near", "absent", "unavailable")}
    print(f"  citation checks: {checked:.1f} s for {sum(results.values())} (quotation, cited "
          f"page) checks {results}")

    add_pages(con, night, size + len(quotes))
    start = time.perf_counter()
    before_sightings = counts["sightings"]
    while index_pages(store, _INDEX_BATCH, counts):
        pass
    nightly = time.perf_counter() - start
    print(f"  night: {nightly:.1f} s to index {len(night)} new documents against "
          f"{len(quotes)} quotations ({counts['sightings'] - before_sightings} sightings)")
    print(f"  quote-check time (lookup + citation checks): {looked + checked:.1f} s")
    print(f"  the quote step's peak memory: {_peak_mb() - held:.0f} MB above the {held:.0f} MB "
          f"the process held before it (the generated texts; DuckDB limit {args.memory_limit})")
    con.close()


def _reset_peak() -> float:
    """Reset this process's peak resident set (Linux clear_refs 5); return the current one, MB."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    """This process's peak resident set since the last reset, MB."""
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def add_pages(con: duckdb.DuckDBPyConnection, texts: Sequence[str], first: int) -> None:
    """Store the texts as page documents (doc_id = first + i)."""
    ids = list(range(first, first + len(texts)))
    con.register("bench_pages", pa.table({
        "doc_id": pa.array(ids, pa.int64()),
        "url": [f"https://example.org/{i}" for i in ids],
        "text": list(texts),
        "content_sha256": [hashlib.sha256(t.encode()).hexdigest() for t in texts],
        "published": [(_T0 + timedelta(days=i % 700)).date().isoformat() for i in ids],
    }))
    con.execute(
        "INSERT INTO documents (doc_id, kind, url, text, text_chars, content_sha256, "
        "published, first_seen, extracted_at) SELECT doc_id, 'page', url, text, length(text), "
        "content_sha256, published, now(), now() FROM bench_pages"
    )
    con.unregister("bench_pages")


def make_quotes(
    count: int, stored: Sequence[str], paragraphs: Sequence[list[str]], rng: random.Random
) -> list[tuple[list[int], list[str]]]:
    """Seeds of _QUOTES_PER_SEED quotations: (cited pages, quotations), half of them copied
    from a cited page (one in four of those with one word changed), half made up."""
    vocab = sorted({w for p in paragraphs for w in p})
    seeds = []
    for s in range(0, count, _QUOTES_PER_SEED):
        cited = rng.sample(range(len(stored)), _CITED_PER_SEED)
        quotes = []
        for i in range(s, min(count, s + _QUOTES_PER_SEED)):
            if i % 2:
                quotes.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(5, 30))))
                continue
            page = stored[rng.choice(cited)].split()
            length = min(len(page), rng.randint(5, 30))
            at = rng.randrange(len(page) - length + 1)
            words = page[at : at + length]
            if i % 8 == 0:
                words[rng.randrange(length)] = rng.choice(vocab)
            quotes.append(" ".join(words))
        seeds.append((cited, quotes))
    return seeds


def add_seeds(
    con: duckdb.DuckDBPyConnection, seeds: Sequence[tuple[list[int], list[str]]], first: int
) -> None:
    """Store the seeds as seed documents citing their pages."""
    rows, citations = [], []
    for n, (cited, quotes) in enumerate(seeds):
        text = "\n".join(f"Someone said \u201c{q}\u201d here." for q in quotes)
        rows.append((first + n, text, hashlib.sha256(text.encode()).hexdigest()))
        citations += [(first + n, f"https://example.org/{p}", p) for p in cited]
    con.register("bench_seeds", pa.table({
        "doc_id": pa.array([i for i, _, _ in rows], pa.int64()),
        "text": [t for _, t, _ in rows], "sha": [h for _, _, h in rows]}))
    con.register("bench_citations", pa.table({
        "doc_id": pa.array([s for s, _, _ in citations], pa.int64()),
        "url": [u for _, u, _ in citations],
        "page": pa.array([p for _, _, p in citations], pa.int64())}))
    con.execute("INSERT INTO documents (doc_id, kind, url, text, content_sha256, first_seen) "
                "SELECT doc_id, 'seed', 'file:///seed/' || doc_id, text, sha, now() "
                "FROM bench_seeds")
    con.execute("INSERT INTO seeds (path, doc_id) SELECT '/seed/' || doc_id, doc_id "
                "FROM bench_seeds")
    con.execute("INSERT INTO citations (doc_id, url, first_seen) "
                "SELECT DISTINCT doc_id, url, now() FROM bench_citations")
    con.execute("INSERT INTO urls (url, doc_id) SELECT url, any_value(page) "
                "FROM bench_citations GROUP BY url ON CONFLICT DO NOTHING")
    con.unregister("bench_seeds")
    con.unregister("bench_citations")


if __name__ == "__main__":
    raise SystemExit(main())
