"""CPU of the flow process's storing work per batch: save_batch, sign and verify, passages.

The ingest flow stores each extracted batch in its own process (flows/ingest.py `_store`):
`save_batch` (passages split and keyed, rows written, page versions and their archived
bodies), then the batch's new documents signed and verified, then its passages indexed.
That process shares the machine's cores with the extraction workers, so every CPU-second
it spends counts against the end-to-end ratio (issue 20). This benchmark times exactly
that path, without HTTP or Prefect, on real pages: page i is corpus page i mod B with the
token ``copy<i>`` written into its longest text runs (benchmarks/throughput.py's pages),
extracted once with recite's extractor (cached with ``--cache``), stored in batches into a
fresh working database. It prints the process CPU time of each part, summed over the
batches, first-use costs (tables built once per process) included.

    python benchmarks/store_cpu.py --corpus ../shared/corpus/aeb/html --pages 2000
"""

import argparse
import hashlib
import pickle
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import load_bases, page_bytes  # a sibling module

from dedup import MinHashParams
from extractors.content import Extraction, extract_page
from fetching.records import Attempt, FetchResult, Outcome, Validators
from pipeline.dedup_step import index_passages, save_and_verify, sign_batch
from pipeline.shingle_cache import ShingleCache
from pipeline.steps import save_batch
from storage.database import WorkingDatabase
from storage.dedup_store import DedupStore
from storage.store import Store

_PARTS = ("save_batch", "sign", "verify", "passages")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="CPU seconds of the flow process's storing path (save_batch, signing, "
        "verifying, passage indexing) over real pages, summed over batches."
    )
    parser.add_argument("--corpus", type=Path, required=True,
                        help="folder of *.html.gz / *.html pages (e.g. ../shared/corpus/aeb/html)")
    parser.add_argument("--pages", type=int, default=2000, help="pages stored (default 2000)")
    parser.add_argument("--batch", type=int, default=200,
                        help="pages per batch, as the flow's batch_size (default 200)")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes extracting the pages once (default 2; 1: in this process)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="pickle of the extractions: read if present, else written")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times the whole store is made afresh; the minimum is printed")
    return parser.parse_args(argv)


def _extract(page: bytes) -> Extraction:
    return extract_page(page)


def pages_and_extractions(
    args: argparse.Namespace,
) -> tuple[list[bytes], list[str | None], list[Extraction]]:
    """The pages' bytes, charsets, and extractions (from the cache when it has them)."""
    bases = load_bases(args.corpus)
    pages = [page_bytes(bases, i) for i in range(args.pages)]
    charsets = [bases[i % len(bases)].charset for i in range(args.pages)]
    if args.cache is not None and args.cache.exists():
        extractions: list[Extraction] = pickle.loads(args.cache.read_bytes())
        if len(extractions) == args.pages:
            return pages, charsets, extractions
    inputs = [p if c == "utf-8" else p.decode(c or "utf-8", "replace")
              for p, c in zip(pages, charsets, strict=True)]
    if args.workers <= 1:
        extractions = [_extract(page) for page in inputs]
    else:
        with ProcessPoolExecutor(args.workers) as pool:
            extractions = list(pool.map(_extract, inputs, chunksize=8))
    if args.cache is not None:
        args.cache.write_bytes(pickle.dumps(extractions))
    return pages, charsets, extractions


def fetch_result(index: int, body: bytes, charset: str | None, at: datetime) -> FetchResult:
    """An ok fetch of page `index` as the fetcher would return it."""
    url = f"http://127.0.1.{1 + index % 250}:8000/page/{index}"
    return FetchResult(
        url=url, outcome=Outcome.OK,
        attempts=(Attempt(url, 1, at, Outcome.OK, 200, url, bytes=len(body)),),
        status_code=200, final_url=url,
        headers=(("content-type", f"text/html; charset={charset or 'utf-8'}"),),
        body=body, content_type="text/html", charset=charset,
        text=body.decode(charset or "utf-8", "replace"),
        validators=Validators(etag=f'"e{index}"', body_sha256=hashlib.sha256(body).hexdigest()),
    )


@contextmanager
def _cpu(totals: dict[str, float], part: str) -> Iterator[None]:
    start = time.process_time()
    try:
        yield
    finally:
        totals[part] += time.process_time() - start


def store_all(
    results: Sequence[FetchResult], extractions: Sequence[Extraction], batch: int, db: Path
) -> dict[str, float]:
    """Store every batch as the flow does; CPU seconds by part."""
    totals: dict[str, float] = defaultdict(float)
    database = WorkingDatabase(db).open()
    store, dstore = Store(database.con), DedupStore(database.con)
    # The URLs are in the frontier already, as the seeds citing them put them there.
    database.con.execute(
        "INSERT INTO urls (url, host, first_seen, fetch_count) "
        "SELECT unnest(?), '127.0.0.1', now(), 0", [[r.url for r in results]],
    )
    params, cache = MinHashParams(), ShingleCache()
    for start in range(0, len(results), batch):
        chunk, done = results[start : start + batch], extractions[start : start + batch]
        with _cpu(totals, "save_batch"):
            report = save_batch(store, "bench", chunk, done)
        hashes = dict(report.content_hashes)
        with _cpu(totals, "sign"):
            signed = sign_batch(dstore.rows_to_sign(report.changed), params, hashes)
        with _cpu(totals, "verify"):
            save_and_verify(dstore, signed, params, datetime.now(UTC), cache)
        with _cpu(totals, "passages"):
            index_passages(dstore, datetime.now(UTC), doc_ids=report.changed)
    database.con.close()
    return totals


def main(argv: Sequence[str] | None = None) -> int:
    """Extract once, store `--rounds` times, print the CPU seconds of each part."""
    args = parse_args(argv)
    pages, charsets, extractions = pages_and_extractions(args)
    at = datetime.now(UTC)
    results = [fetch_result(i, p, c, at) for i, (p, c) in enumerate(zip(pages, charsets, strict=True))]
    print(f"{len(pages)} pages, {sum(map(len, pages)) / 1e6:.1f} MB of HTML, batches of {args.batch}")
    best: dict[str, float] = {}
    for round_no in range(max(1, args.rounds)):
        with tempfile.TemporaryDirectory() as tmp:
            totals = store_all(results, extractions, args.batch, Path(tmp) / "recite.duckdb")
        total = sum(totals.values())
        print(f"round {round_no + 1}: " + ", ".join(f"{p} {totals[p]:.2f}" for p in _PARTS)
              + f", total {total:.2f} CPU s")
        if not best or total < sum(best.values()):
            best = dict(totals)
    print("best: " + ", ".join(f"{p} {best[p]:.2f}" for p in _PARTS)
          + f", total {sum(best.values()):.2f} CPU s"
          + f" ({sum(best.values()) / len(pages) * 1000:.2f} ms per page)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
