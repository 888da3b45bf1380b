"""Bounded work: the CPU cost of every per-response and per-seed path at 1x and 10x input.

Issue 17: every cited site and every seed is untrusted input, and one step that is
quadratic in its input (or unbounded) stalls a whole nightly run. Each path below is
timed at its 1x size and at 10x; the ratio of the two is ~10 for linear work, ~1 for
work that a cap bounds, and ~100 for quadratic work. Figures are CPU seconds of this
process (time.process_time, so other load on a shared machine counts less), the best of
``--repeat`` runs.

Paths: charset detection and a wrong declared charset on multi-MB bodies; citation
scans of HTML, Markdown and plain text with 1,000 / 10,000 links; trafilatura extraction
of a page with 10,000 links; URL normalization of 600 / 6,000-character URLs (long path,
long query, trailing brackets); hostile Markdown (one line of "[" or of "<http://");
passage splitting of hard-wrapped text; robots.txt parsing; reading a seed of 2 / 20 MB,
and of 20 / 200 MB past the default 20 MB cap.

    python benchmarks/cpu_bounds.py            # full size (200 MB seed file in a temp dir)
    python benchmarks/cpu_bounds.py --scale 0.01 --repeat 1   # a quick look
"""

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extractors.citations import scan_html, scan_markdown, scan_text
from extractors.content import extract_page
from extractors.passages import split_passages
from extractors.urls import normalize_url
from fetching.charset import decode_html
from fetching.robots import parse_robots
from pipeline.seeds import SeedLimits, read_seed

_MB = 1024 * 1024
_SEED_CAP = 20 * _MB  # --max-seed-bytes' default


@dataclass(frozen=True, slots=True)
class Work:
    """One path: what its size counts, its 1x size, its input of size n, the work on it."""

    name: str
    unit: str
    base: int
    make: Callable[[int], Any]
    run: Callable[[Any], object]


def _body(n: int) -> bytes:
    """n bytes of windows-1252 text (not UTF-8, so detection or a label decides)."""
    line = "Le caf\xe9 na\xefve de la r\xe9union, d\xe9j\xe0 vu.\n".encode("cp1252")
    return (line * (n // len(line) + 1))[:n]


def _links_html(n: int) -> str:
    links = "".join(f'<li><a href="https://h{i % 50}.example/p/{i}?a=1">story {i}</a></li>'
                    for i in range(n))
    return f"<html><head><title>Links</title></head><body><ul>{links}</ul></body></html>"


def _seed(folder: Path, n: int) -> Path:
    """A .txt seed of n bytes: prose lines citing URLs."""
    path = folder / f"seed-{n}.txt"
    block = "".join(f"The report at https://news{i % 97}.example/story/{i} says more.\n"
                    for i in range(2000)).encode()
    with path.open("wb") as out:
        for _ in range(n // len(block)):
            out.write(block)
        out.write(block[: n % len(block)])
    return path


def _md_links(n: int) -> str:
    return "".join(f"[s{i}](https://h{i % 50}.example/p/{i}) " for i in range(n))


def _text_urls(n: int) -> str:
    return "".join(f"see https://h{i % 50}.example/p/{i}, " for i in range(n))


def _query_url(n: int) -> str:
    return "https://h.example/?" + "&".join(f"k{i}=v" for i in range(n // 6))


def _robots(n: int) -> str:
    return "User-agent: *\n" + "".join(f"Disallow: /*a*b{i}$\n" for i in range(n))


def _works(folder: Path, scale: float) -> list[Work]:
    limits = SeedLimits(max(1, int(_SEED_CAP * scale)), 10_000)
    return [
        Work("charset detection (no label)", "bytes", 500_000, _body,
             lambda b: decode_html(b, None)),
        Work("charset: wrong label (utf-8)", "bytes", 500_000, _body,
             lambda b: decode_html(b, "utf-8")),
        Work("html citations", "links", 1_000, _links_html, scan_html),
        Work("extraction (trafilatura)", "links", 1_000, _links_html,
             lambda h: extract_page(h, "https://h.example/")),
        Work("markdown citations", "links", 1_000, _md_links, scan_markdown),
        Work("plain-text citations", "URLs", 1_000, _text_urls, scan_text),
        Work("url: long path", "chars", 600, lambda n: "https://h.example/" + "ab/" * (n // 3),
             normalize_url),
        Work("url: long query", "chars", 600, _query_url, normalize_url),
        Work("url: trailing brackets", "chars", 600,
             lambda n: "see https://h.example/x" + ")" * n, scan_text),
        Work("markdown: a line of '['", "chars", 200_000, lambda n: "[" * n, scan_markdown),
        Work("markdown: '<http://' repeated", "chars", 200_000, lambda n: "<http://" * (n // 8),
             scan_markdown),
        Work("passages (hard-wrapped)", "lines", 20_000, lambda n: "a wrapped line\n" * n,
             lambda t: split_passages(t, markdown=True)),
        Work("robots.txt parse", "rules", 1_000, _robots, lambda t: parse_robots(t, "recite")),
        Work("seed read", "bytes", 2 * _MB, lambda n: _seed(folder, n),
             lambda p: read_seed(p, limits)),
        Work("seed past the cap", "bytes", 20 * _MB, lambda n: _seed(folder, n),
             lambda p: read_seed(p, limits)),
    ]


def cpu_seconds(work: Work, data: Any, repeat: int) -> float:
    """Best CPU time of `repeat` runs of `work` on `data` (built before, not timed)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        work.run(data)
        best = min(best, time.process_time() - start)
    return best


def verdict(ratio: float) -> str:
    """How a 10x input's cost grew: capped, linear, or worse."""
    if ratio < 3:
        return "bounded (capped)"
    if ratio < 25:
        return "linear"
    return "SUPERLINEAR"


def main(argv: Sequence[str] | None = None) -> int:
    """Time each path at 1x and 10x its input and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="Multiply every 1x size (and the seed cap) by this (default 1).")
    parser.add_argument("--repeat", type=int, default=3,
                        help="Runs per size; the best CPU time counts (default 3).")
    parser.add_argument("--only", default="",
                        help="Run only the paths whose name contains this text.")
    args = parser.parse_args(argv)
    print(f"{'path':34} {'1x':>12} {'10x':>12} {'cpu 1x':>9} {'cpu 10x':>9} {'ratio':>7}  verdict")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="cpu-bounds-") as tmp:
        for work in _works(Path(tmp), args.scale):
            if args.only not in work.name:
                continue
            n = max(1, int(work.base * args.scale))
            small = cpu_seconds(work, work.make(n), args.repeat)
            large = cpu_seconds(work, work.make(10 * n), args.repeat)
            ratio = large / max(small, 1e-6)
            if work.name != "seed past the cap":
                worst = max(worst, ratio)
            print(f"{work.name:34} {n:>12,} {10 * n:>12,} {small:>9.4f} {large:>9.4f} "
                  f"{ratio:>7.1f}  {verdict(ratio)} ({work.unit})")
            for path in Path(tmp).iterdir():
                path.unlink()
    print(f"highest ratio: {worst:.1f} (linear ~10, quadratic ~100)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
