"""A dedup step that fails on some items: the run sets them aside, publishes, and the next retries.

The failure is real code raising inside the real flow: the shingling of any text holding
a marker word raises, as a bug in the dedup library would on some input, and the cluster
rebuild and the quote step's indexing raise once. The run must end `completed_with_errors`, publish every document,
name the items in `step_failures`, and the next run (the bug gone) must try them again and
end where a fresh run does.
"""

import asyncio
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

import pipeline.dedup_step
import pipeline.quotes
from dedup.hashing import U64Array
from flows.ingest import ingest
from tests.changing_site import ChangingSite, Page, paragraph, serve
from tests.flows.nightly import differences, state
from tests.flows.test_ingest import params, query

pytestmark = pytest.mark.usefixtures("prefect_harness")

MARKER = "zyxwvut"


def poisoned_site() -> ChangingSite:
    site = ChangingSite.create(7, families=2, singles=2)
    rng = random.Random(1)
    site.pages["/single/poisoned"] = Page("Poisoned", [
        paragraph(rng), f"This paragraph holds the word {MARKER} that the buggy step cannot take "
        "and it is long enough to count as a passage.", paragraph(rng),
    ])
    return site


def test_failing_items_are_set_aside_published_and_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.dedup_step.shingle_hash_sets

    def buggy(texts: Sequence[str], size: int) -> list[U64Array]:
        if any(MARKER in t for t in texts):
            raise ValueError("shingling failed")
        return real(texts, size)

    def cluster_bug(*args: object) -> object:
        raise RuntimeError("cluster rebuild failed")

    def quote_bug(*args: object) -> object:
        raise KeyError("quote index")

    with serve(poisoned_site()) as site:
        seeds = site.write_seeds(tmp_path / "seeds")
        p = params(tmp_path / "nightly", [seeds], dedup_batch=3, batch_size=4)
        with monkeypatch.context() as patch:
            patch.setattr(pipeline.dedup_step, "shingle_hash_sets", buggy)
            patch.setattr(pipeline.dedup_step, "cluster", cluster_bug)
            patch.setattr(pipeline.quotes, "sightings", quote_bug)
            first = asyncio.run(ingest(p))
        assert first.status == "completed_with_errors"
        poisoned = query(p.db, "SELECT doc_id FROM documents WHERE url LIKE '%/poisoned'")[0][0]
        marker_hash = query(p.db, f"SELECT norm_hash FROM passages WHERE text LIKE '%{MARKER}%'")
        failures = query(p.db, "SELECT stage, item, error FROM step_failures ORDER BY stage")
        assert failures == [
            ("clusters", None, "RuntimeError: cluster rebuild failed"),
            ("dedup", poisoned, "ValueError: shingling failed"),
            ("passages", marker_hash[0][0], "ValueError: shingling failed"),
            ("quotes", None, "KeyError: 'quote index'"),
        ]
        # Published: every page stored, every other document signed, the other passages indexed.
        assert query(p.db, "SELECT status FROM runs") == [("completed_with_errors",)]
        assert query(p.db, "SELECT count(*) FROM documents") == [(len(site.pages) + 2,)]
        unsigned = query(p.db, "SELECT d.doc_id FROM documents d ANTI JOIN doc_signatures s "
                               "USING (doc_id)")
        assert unsigned == [(poisoned,)]
        assert query(p.db, "SELECT count(*) FROM passage_index")[0][0] > 10
        problems = query(p.db, "SELECT problems FROM run_summary")[0][0]
        assert "errors:clusters=1" in problems and "errors:dedup=1" in problems
        assert "errors:quotes=1" in problems
        assert first.count("errors") == 4
        # The seeds' quotations were found before the index failed; no page is indexed yet.
        assert query(p.db, "SELECT count(*) FROM quotes")[0][0] > 0
        assert query(p.db, "SELECT count(*) FROM quote_index_docs") == [(0,)]

        second = asyncio.run(ingest(p))  # the bug is gone: the set-aside items are retried
        fresh = params(tmp_path / "fresh", [seeds], dedup_batch=3, batch_size=4)
        asyncio.run(ingest(fresh))
    assert second.status == "completed"
    assert second.count("dedup", "signed") == 1
    assert differences(state(p.db), state(fresh.db)) == {}


def test_isolate_finds_each_failing_item() -> None:
    from pipeline.isolation import Failures, isolate

    failures = Failures()
    done: list[list[int]] = []

    def work(items: Sequence[int]) -> int:
        if any(i % 7 == 3 for i in items):
            raise ValueError(f"bad in {list(items)}")
        done.append(list(items))
        return len(items)

    results = isolate(list(range(20)), work, "dedup", int, failures)
    assert sorted(f.item for f in failures.items if f.item is not None) == [3, 10, 17]
    assert sum(results) == 17 and sorted(i for d in done for i in d) == [
        i for i in range(20) if i % 7 != 3
    ]
    with pytest.raises(ValueError):
        isolate([3], work, "dedup", int, Failures(raise_errors=True))
