"""Kill a run on a night whose pages were edited: the next run ends where an unkilled one does.

Night 1 is an ordinary run. Before night 2 a third of the pages change
(tests/changing_site.py); the night-2 run is SIGKILLed at a point of the run, the next
run completes it, and the database must equal that of two uninterrupted nights.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.ingest import ingest
from tests.changing_site import ChangingSite, serve
from tests.flows.nightly import differences, history, state
from tests.flows.test_resume import contents, killed_run, parameters

pytestmark = pytest.mark.usefixtures("prefect_harness")

# Points after the edited pages are fetched, where stale derived state could be left.
POINTS = ("batch-stored:2", "dedup-batch:2", "clusters", "passages", "quotes-indexed",
          "run-finished")


@pytest.fixture(scope="module")
def edited_site() -> Iterator[ChangingSite]:
    with serve(ChangingSite.create(11)) as site:
        yield site


@pytest.fixture(scope="module")
def two_nights(
    tmp_path_factory: pytest.TempPathFactory, edited_site: ChangingSite
) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("resume-edits")
    seeds = edited_site.write_seeds(root / "seeds")
    db = root / "reference" / "recite.duckdb"
    edited_site.rewind(1)
    asyncio.run(ingest(parameters(seeds, db)))
    edited_site.rewind(2)
    asyncio.run(ingest(parameters(seeds, db)))
    return seeds, db


@pytest.mark.parametrize("point", POINTS)
def test_killed_run_on_an_edited_night_is_completed_by_the_next(
    point: str, tmp_path: Path, edited_site: ChangingSite, two_nights: tuple[Path, Path]
) -> None:
    seeds, reference = two_nights
    db = tmp_path / "db" / "recite.duckdb"
    params = parameters(seeds, db)
    edited_site.rewind(1)
    asyncio.run(ingest(params))
    edited_site.rewind(2)
    assert edited_site.log, "night 2 edits pages"
    killed = killed_run(params, point)
    assert killed.returncode == -9, killed.stderr[-2000:]
    asyncio.run(ingest(params))
    assert same_outcomes(contents(db)) == same_outcomes(contents(reference))
    assert differences(state(db), state(reference)) == {}
    assert history(db) == history(reference)


def same_outcomes(rows: dict[str, list[tuple[object, ...]]]) -> dict[str, list[tuple[object, ...]]]:
    """`ok` and `not_modified` as one: killed after it finished, the run counts as done, so
    the next one fetches night 2 again and gets 304s where the reference's second night
    got 200s."""
    urls = [(u, "ok" if o == "not_modified" else o, *rest) for u, o, *rest in rows["urls"]]
    return {**rows, "urls": urls}
