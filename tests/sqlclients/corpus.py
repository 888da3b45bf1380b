"""A small corpus for the SQL-client tests: real flow runs against tests/site.py pages.

The seeds are chosen so that every query documented in docs/sql.md has rows: two
outlets (the site reached as 127.0.0.1 and as localhost) carry the same story, two
seeds cite that story, one site repeats a boilerplate line in three pages, some URLs
fail, one redirects, one live page changes between the two runs and one is gone on the
second, and the example seeds repeat their own headline. talks.txt quotes one sentence
of a page it cites and one of a page it does not cite (found elsewhere).
"""

import asyncio
import shutil
import uuid
from pathlib import Path

from flows.ingest import ingest
from flows.settings import IngestParameters
from pipeline.summary import RunSummary
from tests.flows.test_examples import EXAMPLES
from tests.site import Site


def other_outlet(site: Site, path: str) -> str:
    """The same site under a second host name, so it counts as another outlet."""
    return site.url(path).replace("127.0.0.1", "localhost")


def write_seeds(folder: Path, site: Site) -> Path:
    """Seed files citing the test site's pages; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    (folder / "talks.txt").write_text(
        "Talks in Geneva ended without a breakthrough. \u201cDiplomats from Russia and the\n"
        "United States met in Geneva on Monday for talks on European security,\u201d the "
        "report said,\nwhile a columnist wrote that \u201csupporters of a firm line on arms "
        "control point to the lessons of the last decade.\u201d\n\n"
        f"Source: {site.url('/news/geneva-talks')}\n"
        f"Earlier: {site.url('/news/borrell')} and {site.url('/missing')}\n"
        f"Moved: {site.url('/moved')}\n"
        # Fresh names for each corpus: the site counts the requests of each path.
        f"Live: {site.url(f'/live/{tag}')} and {site.url(f'/retracted/{tag}')}\n"
    )
    (folder / "reprints.md").write_text(
        "# Reprints\n\n"
        f"The same story elsewhere: [copy]({other_outlet(site, '/copy/geneva-talks')}), "
        f"[reprint]({site.url('/reprint/geneva-talks')}), "
        f"[what next]({site.url('/news/links-on')}), [pdf]({site.url('/report.pdf')}).\n"
    )
    (folder / "opinion.html").write_text(
        "<html><body><p>Opinion pieces on the talks.</p>"
        f"<a href=\"{site.url('/opinion/one')}\">one</a> "
        f"<a href=\"{site.url('/opinion/two')}\">two</a> "
        f"<a href=\"{site.url('/opinion/three')}\">three</a> "
        f"<a href=\"{site.url('/empty-article')}\">gone</a></body></html>"
    )
    for name in ("001_900827631f3fbf33.txt", "002_a17f2fcfdfc9c411.txt"):
        shutil.copy(EXAMPLES / name, folder / name)
    return folder


def parameters(db: Path, seeds: Path, **extra: object) -> IngestParameters:
    """Run parameters for the local test site: private addresses allowed, no delays."""
    return IngestParameters(
        seeds=[str(seeds)], db=str(db), allow_private_addresses=True, allowed_ports=[],
        per_host_delay=0.0, per_host_concurrency=4, connect_timeout=2.0, read_timeout=2.0,
        total_timeout=5.0, max_attempts=1, memento_timegate="", **extra,  # type: ignore[arg-type]
    )


def build(db: Path, seeds: Path, **extra: object) -> RunSummary:
    """Run the real ingest flow once over `seeds` into `db` (needs the Prefect harness)."""
    return asyncio.run(ingest(parameters(db, seeds, **extra)))
