"""A database built by the real flow over two nights of the test site, for the report tests.

The seeds cite near-duplicate pages (the Geneva story on two outlets, a reprint), the
hostile letters page and its near-copy (markup in their main text), a live page that
changes every night, a page that is gone on the second night, opinion pages that share a
boilerplate line, and URLs that fail. The second night runs with `report_dir`, so the
flow itself renders the report.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.summary import RunSummary
from tests.site import Site


@dataclass(frozen=True)
class Built:
    """The published database, the report the second run rendered, and that run's summary."""

    db: Path
    report: Path
    summary: RunSummary
    live_url: str


def write_seeds(folder: Path, site: Site) -> tuple[Path, str]:
    """Seed files citing the pages the report shows; the folder and the live page's URL."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]  # fresh names: the site counts each path's requests
    live = site.url(f"/live/{tag}")
    (folder / "letters.txt").write_text(
        "Letters and reports about the talks.\n\n"
        "They wrote that “diplomats from Russia and the United States met in Geneva on "
        "Monday” and that “<script>alert(3)</script> every point was agreed”.\n\n"
        f"{site.url('/letters/hostile')}\n{site.url('/letters/hostile-copy')}\n"
        f"{site.url('/news/geneva-talks')} and {site.url('/reprint/geneva-talks')}\n"
        f"{site.url('/copy/geneva-talks').replace('127.0.0.1', 'localhost')}\n"
        f"Live: {live} and {site.url(f'/retracted/{tag}')}\n"
        f"Broken: {site.url('/missing')} {site.url('/report.pdf')}\n"
    )
    (folder / "opinion.md").write_text(
        "# Opinion\n\n"
        + "\n".join(f"- [{p}]({site.url(f'/opinion/{p}')})" for p in ("one", "two", "three"))
        + "\n"
    )
    return folder, live


@pytest.fixture(scope="session")
def report_site(
    tmp_path_factory: pytest.TempPathFactory, site: Site, prefect_harness: None
) -> Iterator[Built]:
    """Two nights of the real flow; the second renders the report into its --report-dir."""
    from tests.sqlclients.corpus import build

    root = tmp_path_factory.mktemp("report-site")
    db = root / "db" / "recite.duckdb"
    seeds, live = write_seeds(root / "seeds", site)
    build(db, seeds)
    report = root / "report"
    summary = build(db, seeds, gone_after_runs=1, report_dir=str(report))
    yield Built(db, report, summary, live)
