"""What publishing costs as the database grows: `WorkingDatabase.publish` at several sizes.

A run writes `<db>.work` and, when it completes, publishes it: it closes the working
database (checkpoint), copies it to a temporary file beside `<db>`, fsyncs the copy and
renames it over `<db>` (storage/database.py). The copy is the whole file every night,
whatever the run changed, so its cost follows the size of the database.

For each size in ``--sizes`` (MB) this builds a working database of about that size
(synthetic documents: distinct text that compresses like real text does not, so the
file is as large as the rows), checkpoints it, then times ``--repeat`` publishes
(reopening the working file between them, which costs no copy) and prints the file's
MB, the fastest and the median publish in seconds, and the copy rate. The source is
in the page cache (it was just written); the copy is fsynced, so the figures include
writing it to disk. Publishing needs free space for one more copy of the database.

    python benchmarks/publish_cost.py --sizes 10 100 1000
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

from storage.database import WorkingDatabase

_MB = 1024 * 1024
_FILL = """
INSERT INTO documents (doc_id, kind, url, text, text_chars, content_sha256, extractor,
                       first_seen, extracted_at)
SELECT i, 'page', 'https://bench.example/doc/' || i, t, length(t), sha256(t), 'bench',
       now(), now()
FROM (
    SELECT i, array_to_string(list_transform(range(40), lambda j: md5((i * 40 + j)::VARCHAR)), ' ')
              AS t
    FROM range(?, ?) r(i)
)
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="Time WorkingDatabase.publish (copy + fsync + rename of the whole "
        "working file) for databases of several sizes.",
    )
    parser.add_argument(
        "--sizes", type=float, nargs="+", default=[10.0, 100.0, 1000.0], metavar="MB",
        help="Database sizes to build, in MB (default: 10 100 1000).",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="Publishes timed per size (default: 3)."
    )
    parser.add_argument(
        "--dir", type=Path, default=None,
        help="Folder to build the databases in, on the file system you care about "
        "(default: a temporary folder under the current one; removed afterwards).",
    )
    return parser.parse_args(argv)


def fill(con: duckdb.DuckDBPyConnection, path: Path, target_bytes: int) -> int:
    """Insert synthetic documents until the checkpointed file reaches `target_bytes`."""
    rows, batch = 0, 2000
    while True:
        con.execute(_FILL, [rows, rows + batch])
        rows += batch
        con.execute("CHECKPOINT")
        size = path.stat().st_size
        if size >= target_bytes:
            return rows
        # Grow the batch towards the remaining size, from the bytes per row so far.
        per_row = max(1.0, size / rows)
        batch = max(2000, min(200_000, int((target_bytes - size) / per_row) + 1))


def measure(folder: Path, size_mb: float, repeat: int) -> tuple[float, list[float]]:
    """Build a database of about `size_mb` in `folder`; return its MB and publish times."""
    db = folder / "recite.duckdb"
    work = WorkingDatabase(db).open()
    try:
        fill(work.con, work.work_path, int(size_mb * _MB))
        work.con.execute("CHECKPOINT")
    finally:
        work.close()
    times = []
    for _ in range(repeat):
        work = WorkingDatabase(db).open()
        start = time.perf_counter()
        work.publish()
        times.append(time.perf_counter() - start)
    return db.stat().st_size / _MB, times


def main(argv: Sequence[str] | None = None) -> int:
    """Build the databases, time the publishes, print one line per size."""
    args = parse_args(argv)
    if args.repeat < 1 or any(s <= 0 for s in args.sizes):
        print("--repeat and --sizes must be positive", file=sys.stderr)
        return 2
    root = args.dir or Path(tempfile.mkdtemp(prefix="publish-cost-", dir="."))
    print(f"duckdb {duckdb.__version__}, folder {root.resolve()}, {args.repeat} publishes per size")
    print(f"{'MB':>10} {'min s':>9} {'median s':>9} {'MB/s':>8}")
    try:
        for size in args.sizes:
            folder = root / f"size-{size:g}"
            folder.mkdir(parents=True, exist_ok=True)
            try:
                mb, times = measure(folder, size, args.repeat)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            best = min(times)
            print(f"{mb:10.1f} {best:9.3f} {statistics.median(times):9.3f} "
                  f"{mb / best if best > 0 else float('inf'):8.0f}")
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
