"""Screenshots of the HTML report (docs/screenshots/report-*.png), with headless Chromium.

Renders the report of `--db` (a published recite database) with `report.build_report`
into a temporary folder and takes a PNG of each page kind from file://, offline:

    python scripts/report_screenshots.py --db data/recite.duckdb [--out docs/screenshots]

Chromium is Debian's `chromium` (`apt-get install -y chromium`).
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
]
PAGES = {
    "overview": "index.html", "clusters": "clusters.html", "passages": "passages.html",
    "changes": "changes.html", "quotes": "quotes.html", "failures": "failures.html",
    "search": "search.html?q=geneva",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="Published recite database.")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--pages", nargs="*", default=list(PAGES), choices=list(PAGES))
    parser.add_argument("--height", type=int, default=1300, help="Window height in pixels.")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from report import build_report

    work = Path(tempfile.mkdtemp(prefix="recite-report-shots-"))
    try:
        site = build_report(args.db, work / "report").out
        args.out.mkdir(parents=True, exist_ok=True)
        for n, kind in enumerate(args.pages):
            target = args.out / f"report-{kind}.png"
            subprocess.run(
                [args.chromium, *FLAGS, f"--user-data-dir={work / f'profile-{n}'}",
                 f"--window-size=1400,{args.height}", "--virtual-time-budget=3000",
                 f"--screenshot={target}", (site / PAGES[kind].split("?")[0]).as_uri()
                 + ("?" + PAGES[kind].split("?")[1] if "?" in PAGES[kind] else "")],
                check=True, capture_output=True, timeout=120,
            )
            print(f"wrote {target}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
