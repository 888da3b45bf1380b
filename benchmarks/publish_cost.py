"""What a nightly publish costs, in three layouts of issue 14's history, measured in one run.

A run writes `<db>.work` and, when it completes, publishes it (storage/database.py):

* ``inside``: the first layout. Raw bodies were a column of `responses`, and publishing
  copied the working file (fsync, rename over `<db>`): the whole archive every night.
* ``copy``: bodies beside the database, in immutable Parquet files in `<db>.archive/`
  (storage/body_files.py), never copied; publishing still copied the working file, the
  working set of every stored page.
* ``rename`` (now): publishing renames the working file over `<db>` and keeps the old
  inode as `<db>.stale`; the next run catches that file up by the keys the night changed
  (storage/catch_up.py). Both halves are timed: the publish, and the next run's catch-up.

For each store size in ``--pages`` this builds both layouts with the real
`WorkingDatabase` and schema: per page a synthetic document (distinct text), 20
passages, a MinHash signature and 21 band keys (the database around the archive grows
with the corpus too), and one response whose body is ``--body-kb`` KB of random bytes
(it stands for a compressed body: nothing compresses it further). It publishes once,
then times ``--repeat`` nights that each change ``--changed`` documents and their
responses (new bodies), and prints per layout: the database file, the archive folder,
the median checkpoint of the night's writes (timed apart: every layout pays it, and the
catch-up leaves its changes to it), the median publish (for ``rename`` also the median
catch-up at the next run's start),
and the disk needed at the peak of a night against what stays on disk between runs
(the files of the folder, each inode counted once; for a copy, the copy is added).

    python benchmarks/publish_cost.py --pages 100000 1000000 --body-kb 4
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from storage.body_files import archive_dir, write_bodies
from storage.database import WorkingDatabase, _copy_atomic

_MB = 1024 * 1024
_BATCH = 5000
_DOCUMENTS = """
INSERT OR REPLACE INTO documents (doc_id, kind, url, text, text_chars, content_sha256,
                                  extractor, first_seen, extracted_at)
SELECT i, 'page', 'https://bench.example/doc/' || i, t, length(t), sha256(t), 'bench',
       now(), now()
FROM (
    SELECT i, array_to_string(list_transform(range(40),
              lambda j: md5((i * 40 + j + ?)::VARCHAR)), ' ') AS t
    FROM range(?, ?) r(i)
)
"""
# What else a page brings: its paragraphs, its MinHash signature and its 21 band keys, so
# that the database around the archive is as large per page as a real one.
_INDEX = (
    """
    INSERT OR REPLACE INTO passages
    SELECT i, p, md5((i * 20 + p + ?)::VARCHAR) || ' ' || md5((i * 20 + p)::VARCHAR),
           (hash(i * 20 + p + ?) >> 1)::BIGINT, true
    FROM range(?, ?) r(i), range(20) q(p)
    """,
    """
    INSERT OR REPLACE INTO doc_signatures
    SELECT i, sha256(i::VARCHAR), (hash(i + ?) >> 1)::BIGINT, 400, 'affine32', 1, 128, 5, 1,
           list_transform(range(128), lambda k: hash(i * 128 + k + ?)), now()
    FROM range(?, ?) r(i)
    """,
    """
    INSERT INTO doc_bands
    SELECT i, b, hash(i * 21 + b + ? + ?) FROM range(?, ?) r(i), range(21) q(b)
    """,
)
_RESPONSES = """
INSERT OR REPLACE INTO responses (url, final_url, fetched_at, status_code, headers,
    content_type, charset, body_sha256, body_bytes, body_codec, archive_file {extra})
SELECT url, NULL, now(), 200, [{{'name': 'content-type', 'value': 'text/html'}}],
       'text/html', 'utf-8', body_sha256, body_bytes, 'zstd', ? {extra}
FROM new_bodies
"""


LAYOUTS = ("inside", "copy", "rename")


@dataclass(frozen=True, slots=True)
class Figures:
    """One layout at one store size."""

    db_bytes: int
    archive_bytes: int
    publishes: list[float]
    peak_bytes: int
    kept_bytes: int
    catch_ups: list[float]
    checkpoints: list[float]
    preparations: list[str]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="Time a nightly publish in the layouts of issue 14: bodies inside the "
        "copied database, bodies beside it with the database copied, and the database "
        "renamed with the next run catching up the file published before (now).",
    )
    parser.add_argument("--pages", type=int, nargs="+", default=[10_000, 100_000],
                        help="Stored pages of each store to build (default: 10000 100000).")
    parser.add_argument("--body-kb", type=float, default=4.0,
                        help="Size of each stored (compressed) body in KB (default: 4).")
    parser.add_argument("--changed", type=int, default=1000,
                        help="Documents and responses a night changes (default: 1000).")
    parser.add_argument("--repeat", type=int, default=3, help="Nights timed per store (default: 3).")
    parser.add_argument(
        "--layouts", nargs="+", choices=LAYOUTS, default=["copy", "rename"],
        help="Layouts to build (default: copy rename). Bodies inside need about 6x the "
        "archive's size free at publish time (DuckDB stores a blob in about twice its bytes).",
    )
    parser.add_argument(
        "--dir", type=Path, default=None,
        help="Folder to build the stores in, on the file system you care about "
        "(default: a temporary folder under the current one; removed afterwards).",
    )
    return parser.parse_args(argv)


def bodies(start: int, stop: int, body_bytes: int, salt: int) -> pa.Table:
    """Random bodies of pages start..stop-1, in the archive file's columns."""
    n = stop - start
    blobs = [os.urandom(body_bytes) for _ in range(n)]
    return pa.table({
        "url": pa.array([f"https://bench.example/doc/{i}" for i in range(start, stop)]),
        "fetched_at": pa.array([datetime.now(UTC)] * n, pa.timestamp("us", tz="UTC")),
        "body_sha256": pa.array([f"{salt}-{i}" for i in range(start, stop)]),
        "body_bytes": pa.array([body_bytes] * n, pa.int64()),
        "body_codec": pa.array(["zstd"] * n),
        "body_compressed": pa.array(blobs, pa.large_binary()),
    })


def store_pages(work: WorkingDatabase, start: int, stop: int, body_bytes: int, salt: int,
                inline: bool) -> None:
    """Documents and responses of pages start..stop-1, bodies inline or in a new file."""
    con = work.con
    # What the pipeline's writes mark (storage/changes.py) for the next catch-up.
    con.execute("INSERT INTO changed_docs SELECT i FROM range(?, ?) r(i)", [start, stop])
    con.execute("INSERT INTO changed_urls SELECT 'https://bench.example/doc/' || i "
                "FROM range(?, ?) r(i)", [start, stop])
    con.execute(_DOCUMENTS, [salt, start, stop])
    con.execute("DELETE FROM doc_bands WHERE doc_id >= ? AND doc_id < ?", [start, stop])
    for sql in _INDEX:
        con.execute(sql, [salt, salt, start, stop])
    table = bodies(start, stop, body_bytes, salt)
    con.register("new_bodies", table)
    try:
        if inline:
            con.execute(_RESPONSES.format(extra=", body_compressed"), [None])
        else:
            name = write_bodies(archive_dir(work.db_path), table, datetime.now(UTC))
            con.execute(_RESPONSES.format(extra=""), [name])
            con.execute("INSERT INTO archive_files VALUES (?, 'bench', ?, ?, now())",
                        [name, stop - start, (archive_dir(work.db_path) / name).stat().st_size])
    finally:
        con.unregister("new_bodies")


def folder_bytes(folder: Path) -> int:
    """Bytes of the files in `folder` (0 if absent)."""
    return sum(p.stat().st_size for p in folder.glob("*")) if folder.exists() else 0


def disk_bytes(folder: Path) -> int:
    """Bytes of every file under `folder`, each inode once (a hard link is no extra disk)."""
    sizes = {(s.st_dev, s.st_ino): s.st_size
             for s in (p.stat() for p in folder.rglob("*") if p.is_file())}
    return sum(sizes.values())


def publish(work: WorkingDatabase, layout: str) -> None:
    """Publish as `layout` does: rename (now), or copy as before (the work file stays)."""
    if layout == "rename":
        work.publish()
        return
    work.close()
    _copy_atomic(work.work_path, work.db_path)


def measure(folder: Path, pages: int, body_kb: float, changed: int, repeat: int,
            layout: str) -> Figures:
    """Build one store, publish it, then time `repeat` nights of `changed` pages each."""
    db = folder / "recite.duckdb"
    body_bytes = int(body_kb * 1024)
    inline = layout == "inside"
    work = WorkingDatabase(db).open()
    if inline:  # the layout before issue 14: bodies in responses.body_compressed
        work.con.execute("ALTER TABLE responses ADD COLUMN body_compressed BLOB")
    for start in range(0, pages, _BATCH):
        store_pages(work, start, min(pages, start + _BATCH), body_bytes, 0, inline)
    publish(work, layout)
    # A first night: the rename layout has no file published before the first to catch up.
    work = WorkingDatabase(db).open()
    publish(work, layout)
    times, catch_ups, checkpoints, hows, peak = [], [], [], [], 0
    for night in range(1, repeat + 1):
        work = WorkingDatabase(db).open()
        hows.append(work.preparation.how)
        catch_ups.append(work.preparation.seconds)
        peak = max(peak, disk_bytes(folder))
        first = (night * 7919) % max(1, pages - changed)
        store_pages(work, first, first + min(changed, pages), body_bytes, night, inline)
        start = time.perf_counter()
        work.con.execute("CHECKPOINT")
        checkpoints.append(time.perf_counter() - start)
        at_publish = disk_bytes(folder)
        # A copy adds a file as large as the working one until the rename.
        peak = max(peak, at_publish + (0 if layout == "rename" else work.work_path.stat().st_size))
        start = time.perf_counter()
        publish(work, layout)
        times.append(time.perf_counter() - start)
    kept = disk_bytes(folder)
    return Figures(db.stat().st_size, folder_bytes(archive_dir(db)), times, max(peak, kept),
                   kept, catch_ups, checkpoints, hows)


def main(argv: Sequence[str] | None = None) -> int:
    """Build each store in both layouts, time the nights' publishes, print the figures."""
    args = parse_args(argv)
    if args.repeat < 1 or args.changed < 1 or args.body_kb <= 0 or any(p < 1 for p in args.pages):
        print("--pages, --body-kb, --changed and --repeat must be positive", file=sys.stderr)
        return 2
    root = args.dir or Path(tempfile.mkdtemp(prefix="publish-cost-", dir="."))
    print(f"duckdb {duckdb.__version__}, folder {root.resolve()}, {args.body_kb:g} KB bodies, "
          f"{args.changed} pages changed per night, {args.repeat} nights per store")
    print(f"{'pages':>9} {'layout':<7} {'db MB':>9} {'archive MB':>11} {'checkpoint s':>13} "
          f"{'publish s':>10} {'catch-up s':>11} {'disk peak/kept':>15}  next run's working file")
    try:
        for pages in args.pages:
            medians = {}
            for layout in args.layouts:
                folder = root / f"{pages}-{layout}"
                folder.mkdir(parents=True, exist_ok=True)
                try:
                    f = measure(folder, pages, args.body_kb, args.changed, args.repeat, layout)
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
                medians[layout] = statistics.median(f.publishes)
                catch = statistics.median(f.catch_ups) if layout == "rename" else 0.0
                print(f"{pages:9d} {layout:<7} {f.db_bytes / _MB:9.1f} {f.archive_bytes / _MB:11.1f} "
                      f"{statistics.median(f.checkpoints):13.3f} {medians[layout]:10.3f} "
                      f"{catch:11.3f} {f.peak_bytes / f.kept_bytes:15.2f}"
                      f"  {', '.join(sorted(set(f.preparations)))}")
            if "copy" in medians and "rename" in medians and medians["rename"] > 0:
                print(f"{pages:9d} publish: rename is {medians['copy'] / medians['rename']:.0f}x "
                      "faster than copy")
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
