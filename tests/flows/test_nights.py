"""Several nights of a site that changes: every run succeeds, and the end equals a fresh run.

The site (tests/changing_site.py) edits a third of its pages between nights: words
changed, paragraphs added, removed, reordered or copied from another page, titles
changed. Each night is a real `ingest` run under Prefect against it; after the last,
a fresh run over the final pages into an empty database must hold the same documents,
pairs, clusters, passage repeats and indexes (tests/flows/nightly.py).
"""

import asyncio
import os
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from tests.changing_site import ChangingSite, Page, serve
from tests.flows.nightly import differences, quote_checks_recomputed, state
from tests.flows.test_ingest import params, query

pytestmark = pytest.mark.usefixtures("prefect_harness")

NIGHTS = 6


def statuses(db: str) -> list[str]:
    return [str(s) for (s,) in query(db, "SELECT status FROM runs ORDER BY started_at")]


def run_nights(site: ChangingSite, root: Path, nights: int) -> tuple[str, str]:
    """Run `nights` nights of `site` into one database, then a fresh run; the two paths."""
    seeds = site.write_seeds(root / "seeds")
    nightly = params(root / "nightly", [seeds], dedup_batch=4, batch_size=5)
    inodes = []
    for night in range(1, nights + 1):
        if night > 1:
            site.advance()
        asyncio.run(ingest(nightly))
        inodes.append(os.stat(nightly.db).st_ino)
    # From the third night on, each run's file is the one published two nights before,
    # caught up (storage/catch_up.py; a catch-up that differs fails the run under
    # RECITE_CATCH_UP_STRICT), not a copy: a copy would be a new inode.
    assert all(inodes[k] == inodes[k - 2] for k in range(2, nights)), inodes
    fresh = params(root / "fresh", [seeds], dedup_batch=4, batch_size=5)
    asyncio.run(ingest(fresh))
    return nightly.db, fresh.db


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nights_of_edits_equal_a_fresh_run(seed: int, tmp_path: Path) -> None:
    with serve(ChangingSite.create(seed)) as site:
        nightly, fresh = run_nights(site, tmp_path, NIGHTS)
    assert statuses(nightly) == ["completed"] * NIGHTS, site.log
    final = state(nightly)
    assert differences(final, state(fresh)) == {}, site.log
    # Quotes are checked against the version each seed cited (night 1's), fresh ones'
    # against the final pages: both are what checking those texts again gives.
    assert quote_checks_recomputed(nightly) == []
    assert quote_checks_recomputed(fresh) == []
    results = {r for (r,) in query(nightly, "SELECT DISTINCT result FROM quote_checks")}
    assert "exact" in results and "absent" in results
    # The comparison is not of empty tables: every structure has rows, and pages changed.
    empty = [name for name in ("near_duplicates", "cluster_members", "repeated_passages",
                               "near_repeated_passages", "passage_index", "quotes",
                               "quote_sightings", "passage_origins") if not final[name]]
    assert not empty
    changed = query(nightly, "SELECT sum(count) FROM run_counts WHERE reason = 'page_changed'")
    assert changed[0][0] > len(site.pages)  # night 1 stores all; later nights store the edits
    assert query(nightly, "SELECT count(*) FROM fetches WHERE outcome = 'not_modified'")[0][0] > 0


def test_one_paragraph_edit_does_not_break_the_next_run(tmp_path: Path) -> None:
    """Issue 13: a few words changed in one paragraph made every later run fail."""
    site = ChangingSite(seed=0)
    site.pages["/article"] = Page("Talks resume", [
        "First paragraph 1. The delegations discussed arms control and troop deployments "
        "near the border, officials said after the meeting in Geneva on Monday.",
        "Second paragraph 1. A senior official said the talks would continue in Brussels on "
        "Wednesday with representatives of all member states of the alliance.",
        "Third paragraph 1. Observers noted that neither side announced any concessions, and "
        "that the positions remain far apart on the central questions.",
    ])
    with serve(site):
        seeds = site.write_seeds(tmp_path / "seeds")
        p = params(tmp_path / "nightly", [seeds])
        asyncio.run(ingest(p))
        paragraphs = site.pages["/article"].paragraphs
        paragraphs[1] = paragraphs[1].replace("Second paragraph 1.", "Second paragraph one, revised.")
        asyncio.run(ingest(p))
        paragraphs[1] = paragraphs[1].replace("Wednesday", "Thursday")
        asyncio.run(ingest(p))
        fresh = params(tmp_path / "fresh", [seeds])
        asyncio.run(ingest(fresh))
    assert statuses(p.db) == ["completed"] * 3
    assert differences(state(p.db), state(fresh.db)) == {}
    texts = [t for (t,) in query(p.db, "SELECT text FROM passages WHERE text LIKE 'Second%'")]
    assert texts == [paragraphs[1]]
    # The old texts' index entries went with them: nothing indexed that no passage holds.
    orphans = query(p.db, "SELECT count(*) FROM passage_index i WHERE NOT EXISTS "
                          "(SELECT 1 FROM passages p WHERE p.norm_hash = i.passage_hash)")
    assert orphans == [(0,)]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10, 10 + int(os.environ.get("RECITE_NIGHT_SEEDS", "20"))))
def test_many_sequences_of_nights(seed: int, tmp_path: Path) -> None:
    """The same as the fast test over many more edit scripts (`pytest -m slow`)."""
    with serve(ChangingSite.create(seed, families=4, singles=6)) as site:
        nightly, fresh = run_nights(site, tmp_path, 8)
    assert statuses(nightly) == ["completed"] * 8, site.log
    assert differences(state(nightly), state(fresh)) == {}, site.log


def test_state_compares_indexes_not_only_views(tmp_path: Path) -> None:
    """The comparison sees a stale index entry that no view shows (so it can fail)."""
    with serve(ChangingSite.create(4)) as site:
        seeds = site.write_seeds(tmp_path / "seeds")
        p = params(tmp_path / "a", [seeds])
        asyncio.run(ingest(p))
    before = state(p.db)
    with duckdb.connect(p.db) as con:
        con.execute("INSERT INTO passage_bands VALUES (42, 0, 42)")
    assert set(differences(state(p.db), before)) == {"passage_bands"}
