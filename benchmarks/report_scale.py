"""Scale of the HTML report: build it from a synthetic database of N documents, timed.

The database is built through the project's own store code, as a run writes it: two
nights of `pipeline.steps.save_batch` (fetch rows, documents, passages, page versions,
raw bodies in the archive folder) over ``--docs`` synthetic pages on ``--hosts`` sites,
each page ending in its site's boilerplate line; ``--failure-rate`` of the URLs fail
(404 or timeout); on the second night ``--changed`` pages change a paragraph. Pages come
in families (``--cluster-rate`` of them are near-copies of another, one word changed):
their verified pairs and clusters are stored with `storage.dedup_store.DedupStore`, the
way the dedup step stores them. Runs are recorded with `Store.start_run`/`finish_run`.

Then `recite report`'s code (`report.build_report`) renders the report in a fresh
process, and the benchmark prints its wall time, the peak memory (maximum resident set)
of that process, the number of files and the largest one, against the targets of issue
19: at most 60 s and 1 GB for 100,000 documents, no file over 2 MB.

    python benchmarks/report_scale.py --docs 100000
"""

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

TARGET_SECONDS = 60.0
TARGET_MB = 1024.0
_VOCABULARY = (
    "council", "minister", "border", "treaty", "summit", "energy", "grain", "pipeline",
    "sanctions", "envoy", "parliament", "ceasefire", "budget", "alliance", "harbour", "election",
    "reform", "coalition", "tariff", "drone", "satellite", "refugee", "corridor", "airspace",
    "garrison", "mandate", "inquiry", "verdict", "protest", "strike", "shortage", "talks",
    "delegation", "officials", "agreement", "capital", "region", "security", "statement",
    "negotiators", "report",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000,
                        help="Documents (fetched pages) in the database (default 100000).")
    parser.add_argument("--hosts", type=int, default=500, help="Sites the pages are on.")
    parser.add_argument("--cluster-rate", type=float, default=0.1,
                        help="Share of pages that are near-copies of another page.")
    parser.add_argument("--failure-rate", type=float, default=0.05,
                        help="Share of the URLs whose fetch fails (URLs on top of --docs).")
    parser.add_argument("--changed", type=int, default=5_000,
                        help="Pages whose text changes on the second night.")
    parser.add_argument("--batch", type=int, default=2_000, help="Pages per stored batch.")
    parser.add_argument("--dir", type=Path, default=None,
                        help="Folder for the database and the report (default: a temporary one).")
    parser.add_argument("--keep", action="store_true", help="Keep the database and report.")
    parser.add_argument("--child", nargs=2, metavar=("DB", "OUT"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _paragraph(rng: random.Random, words: int = 40) -> str:
    return " ".join(rng.choice(_VOCABULARY) for _ in range(words)).capitalize() + "."


def _url(i: int, hosts: int) -> str:
    return f"https://site{i % hosts}.example/news/{i}"


def _urls(args: argparse.Namespace) -> int:
    """URLs in the frontier: --docs that answer, and the failing ones on top."""
    return round(args.docs / (1 - args.failure_rate))


def _texts(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of each URL's page; near-copies follow the page they copy."""
    rng = random.Random(19)
    pages: list[tuple[str, list[str]]] = []
    for i in range(_urls(args)):
        if pages and rng.random() < args.cluster_rate:
            title, paragraphs = pages[-1]
            edited = list(paragraphs)
            words = edited[0].split()
            words[rng.randrange(len(words))] = rng.choice(_VOCABULARY)
            edited[0] = " ".join(words)
            pages.append((title, edited))
            continue
        pages.append((f"Story {i} about the {rng.choice(_VOCABULARY)}",
                      [_paragraph(rng) for _ in range(5)]))
    return pages


def _night(store: object, run_id: str, args: argparse.Namespace,
           pages: list[tuple[str, list[str]]], failing: set[int], at: datetime) -> None:
    """Store every page through `save_batch`, as one run does, and record the run."""
    from extractors.content import Extraction
    from extractors.records import ExtractedDocument
    from fetching.records import Attempt, FetchResult, Outcome
    from pipeline.steps import save_batch
    from pipeline.summary import Tally
    from storage.outcomes import RunStatus
    from storage.store import Store

    assert isinstance(store, Store)
    store.start_run(run_id, {"benchmark": "report_scale"}, at)
    tally = Tally()
    for start in range(0, len(pages), args.batch):
        results, extractions = [], []
        for i in range(start, min(start + args.batch, len(pages))):
            url = _url(i, args.hosts)
            if i in failing:
                outcome = Outcome.HTTP_4XX if i % 2 else Outcome.TIMEOUT
                status = 404 if i % 2 else None
                attempt = Attempt(url, 1, at, outcome, status_code=status)
                results.append(FetchResult(url, outcome, (attempt,), status_code=status,
                                           error=None if status else "read timed out"))
                continue
            title, paragraphs = pages[i]
            boilerplate = f"Comments are closed on site {i % args.hosts}, in line with our policy."
            text = "\n".join([*paragraphs, boilerplate])
            html = f"<html><head><title>{title}</title></head><body><p>{text}</p></body></html>"
            attempt = Attempt(url, 1, at, Outcome.OK, status_code=200)
            results.append(FetchResult(
                url, Outcome.OK, (attempt,), status_code=200, final_url=url,
                body=html.encode(), content_type="text/html", charset="utf-8", text=html,
            ))
            extractions.append(Extraction(ExtractedDocument(
                text, title=title, published="2022-01-10", hostname=f"site{i % args.hosts}.example",
            ), "ok"))
        tally.add(save_batch(store, run_id, results, extractions, gone_after_runs=1))
    store.finish_run(run_id, RunStatus.COMPLETED, tally.counts, at)


def _clusters(con: object, args: argparse.Namespace, pages: list[tuple[str, list[str]]],
              failing: set[int], at: datetime) -> int:
    """Store the families' verified pairs and clusters through DedupStore."""
    from dedup.cluster import ClusterMember
    from storage.cluster_store import ClusterStore
    from storage.dedup_store import DedupStore, PairRow
    from storage.records import document_id

    store = DedupStore(con)  # type: ignore[arg-type]
    store.set_settings(0.8, 3)
    families: dict[int, list[int]] = {}
    head = 0
    for i in range(len(pages)):
        if i and pages[i][0] == pages[i - 1][0]:
            families.setdefault(head, [head]).append(i)
        else:
            head = i
    pairs, members = [], []
    for family in families.values():
        kept = [i for i in family if i not in failing]
        if len(kept) < 2:
            continue
        ids = [document_id("page", _url(i, args.hosts)) for i in kept]
        canonical = ids[0]
        for other in ids[1:]:
            a, b = sorted((canonical, other))
            pairs.append(PairRow(a, b, 0.9, False))
        members.extend(ClusterMember(d, canonical, canonical, d == canonical) for d in ids)
    with store.transaction():
        store.save_pairs(pairs, at)
        ClusterStore(store.con).replace_all(members, 0.8, at)
    return len({m.cluster_id for m in members})


def build_database(db: Path, args: argparse.Namespace) -> dict[str, int]:
    """The synthetic database, built with the real schema and store code; what it holds."""
    from storage.database import WorkingDatabase
    from storage.store import Store

    pages = _texts(args)
    rng = random.Random(7)
    urls = _urls(args)
    failing = set(rng.sample(range(urls), urls - args.docs))
    with WorkingDatabase(db, "2GB") as work:
        # The frontier, as citations leave it: every URL known, none fetched yet.
        work.con.execute(
            "INSERT INTO urls (url, host, fetch_count) SELECT 'https://site' || (i % ?) || "
            "'.example/news/' || i, 'site' || (i % ?) || '.example', 0 FROM range(?) r(i)",
            [args.hosts, args.hosts, urls],
        )
        store = Store(work.con)
        first = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
        _night(store, "bench-night-1", args, pages, failing, first)
        clusters = _clusters(work.con, args, pages, failing, first)
        ok = [i for i in range(urls) if i not in failing]
        for i in random.Random(11).sample(ok, min(args.changed, len(ok))):
            title, paragraphs = pages[i]
            pages[i] = (title, [*paragraphs[:-1], _paragraph(rng)])
        _night(store, "bench-night-2", args, pages, failing, datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
        (stored,) = work.con.execute("SELECT count(*) FROM documents").fetchall()[0]
        work.publish()
    return {"docs": int(stored), "clusters": clusters, "failing": len(failing)}


def child_main(db: str, out: str) -> int:
    """Render the report (in its own process, so its peak memory is its own)."""
    from report import build_report

    started = time.perf_counter()
    result = build_report(Path(db), Path(out))
    seconds = time.perf_counter() - started
    print(f"{seconds:.2f} {result.files} {result.largest_bytes} {_peak_kb()}")
    return 0


def _peak_kb() -> int:
    """This process's peak resident set since its exec (VmHWM), in KB.

    Not getrusage: a child's ru_maxrss carries the high-water mark of the image it was
    forked from (the parent, which holds the database builder's memory) across exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(*args.child)
    folder = Path(tempfile.mkdtemp(prefix="recite-report-", dir=args.dir))
    try:
        db = folder / "recite.duckdb"
        started = time.perf_counter()
        facts = build_database(db, args)
        built = time.perf_counter() - started
        print(f"database: {facts['docs']:,} documents, {facts['clusters']:,} clusters, "
              f"{facts['failing']:,} failing URLs, {args.changed:,} changed pages; built in "
              f"{built:.1f} s ({db.stat().st_size / 2**20:.0f} MB)")
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(db), str(folder / "report")],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        seconds, files, largest, peak_kb = done.stdout.split()[-4:]
        peak_mb = int(peak_kb) / 1024
        ok = float(seconds) <= TARGET_SECONDS and peak_mb <= TARGET_MB and int(largest) <= 2 * 2**20
        print(f"report: {float(seconds):.1f} s (target {TARGET_SECONDS:.0f} s), peak memory "
              f"{peak_mb:.0f} MB (target {TARGET_MB:.0f} MB), {int(files):,} files, largest "
              f"{int(largest) / 1024:.0f} KB (limit 2048 KB): {'within' if ok else 'OVER'} targets")
        return 0
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
