"""Crash anywhere and resume: a run SIGKILLed at any point is completed by the next one.

A run is started in a subprocess with RECITE_FAULT_KILL_AT naming a point of the run
(every stage: seeds, fetch batches, dedup, passages, publishing; the pass number of the
batch points is drawn at random), then the next run completes in-process, and the
database must equal that of an uninterrupted run on the same pages.
"""

import asyncio
import os
import random
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.faults import POINTS
from flows.ingest import ingest
from flows.settings import IngestParameters
from tests.site import Site, generated

pytestmark = pytest.mark.usefixtures("prefect_harness")

CONTENTS = {
    "documents": "SELECT doc_id, kind, url, content_sha256, title FROM documents",
    "passages": "SELECT doc_id, ordinal, norm_hash, counts_for_repeats FROM passages",
    "citations": "SELECT doc_id, url FROM citations",
    "seeds": "SELECT path, sha256, status, reason FROM seeds",
    # A run after a complete one gets the same bodies again: not_modified (issue 16).
    "urls": "SELECT url, CASE WHEN last_outcome = 'not_modified' THEN 'ok' ELSE last_outcome END, "
            "doc_id, current_version FROM urls",
    "link_rot": "SELECT url, versions_kept FROM link_rot",
    "page_versions": (
        "SELECT url, version, content_sha256, title, is_current, source, page_url, doc_id "
        "FROM page_versions"
    ),
    "page_changes": "SELECT url, from_version, to_version FROM page_changes",
    "cited_versions": "SELECT seed, url, version FROM cited_versions",
    "version_texts": "SELECT content_sha256, text FROM version_texts",
    "responses": "SELECT url, body_sha256 FROM responses",
    "near_duplicates": "SELECT doc_a, doc_b, round(jaccard, 9), exact FROM near_duplicates",
    "clusters": "SELECT doc_id, cluster_id, canonical_doc_id, is_canonical FROM duplicate_clusters",
    "repeated": "SELECT passage_hash, occurrences, documents, is_boilerplate FROM repeated_passages",
    "passage_pairs": "SELECT hash_a, hash_b, round(jaccard, 9) FROM passage_pairs",
    "signatures": "SELECT doc_id, content_sha256 FROM doc_signatures",
    "quotes": "SELECT seed_doc_id, ordinal, text, start_char, end_char FROM quotes",
    "quote_checks": (
        "SELECT seed_doc_id, quote_ordinal, url, result, round(containment, 9), matched_text, "
        "version FROM quote_checks"
    ),
    "citation_support": (
        "SELECT seed_doc_id, url, quotes_checked, exact, near, absent, unavailable, "
        "round(passage_share, 9) FROM citation_support"
    ),
    "quote_index": "SELECT gram, doc_id FROM quote_index",
    "quote_sightings": "SELECT quote_key, doc_id, result FROM quote_sightings",
    "passage_origins": "SELECT passage_hash, kind, copies FROM passage_origins",
}
BATCH_POINTS = {"batch-fetched": 3, "batch-stored": 3, "dedup-batch": 3}


def contents(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in CONTENTS.items()}


def seeds_for(site: Site, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [f"/gen/{n}" for n in range(12)] + ["/gen/3-copy", "/gen/7-copy"]
    for i in range(3):
        (folder / f"seed{i}.txt").write_text("\n".join(site.url(p) for p in paths[i::3]) + "\n")
    (folder / "notes.md").write_text(f"[again]({site.url('/gen/0')}) and [missing]({site.url('/missing')})\n")
    # A quotation of /gen/0 (exact there; absent from, or unavailable on, the others).
    quoted = " ".join(generated("0").split("<p>")[1].split()[:12])
    (folder / "quoting.txt").write_text(
        f"The dispatch said \u201c{quoted}\u201d.\n{site.url('/gen/0')}\n{site.url('/gen/1')}\n"
        f"{site.url('/missing')}\n"
    )
    return folder


def parameters(seeds: Path, db: Path) -> IngestParameters:
    return IngestParameters(
        seeds=[str(seeds)], db=str(db), allow_private_addresses=True, allowed_ports=[],
        per_host_delay=0.0, per_host_concurrency=4, batch_size=4, dedup_batch=3,
        max_attempts=1, connect_timeout=2, read_timeout=2, total_timeout=5,
        memento_timegate="",
    )


def killed_run(params: IngestParameters, point: str) -> subprocess.CompletedProcess[str]:
    from prefect.settings import PREFECT_API_URL

    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "RECITE_FAULT_KILL_AT": point,
        "RECITE_ALLOW_PRIVATE_ADDRESSES": "1",
        "RECITE_ALLOWED_PORTS": "",
    }
    args = [
        "--seeds", *params.seeds, "--db", params.db, "--per-host-delay", "0",
        "--per-host-concurrency", "4", "--batch-size", "4", "--dedup-batch", "3",
        "--max-attempts", "1", "--connect-timeout", "2", "--read-timeout", "2",
        "--total-timeout", "5",
    ]
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "run", *args],
        capture_output=True, text=True, timeout=300, env=env,
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, site: Site) -> tuple[Path, dict[str, list[tuple[object, ...]]]]:
    root = tmp_path_factory.mktemp("resume")
    seeds = seeds_for(site, root / "seeds")
    db = root / "reference" / "recite.duckdb"
    asyncio.run(ingest(parameters(seeds, db)))
    return seeds, contents(db)


def points() -> list[str]:
    rng = random.Random(20261122)
    chosen = [f"{p}:{rng.randint(1, BATCH_POINTS[p])}" if p in BATCH_POINTS else p for p in POINTS]
    return chosen


@pytest.mark.parametrize("point", points())
def test_killed_run_is_completed_by_the_next(
    point: str, tmp_path: Path, site: Site,
    reference: tuple[Path, dict[str, list[tuple[object, ...]]]],
) -> None:
    seeds, expected = reference
    db = tmp_path / "db" / "recite.duckdb"
    params = parameters(seeds, db)
    killed = killed_run(params, point)
    assert killed.returncode == -9, killed.stderr[-2000:]
    published_after_kill = contents(db) if db.exists() else None

    middle = len(site.requests)
    asyncio.run(ingest(params))
    assert contents(db) == expected
    if published_after_kill is not None:
        # What was published before the kill was a complete run, never a partial one.
        assert point in ("published", "publish-copied") or published_after_kill == expected
    # URLs whose fetch the killed run committed are not fetched again by the next run.
    with duckdb.connect(str(db), read_only=True) as con:
        committed = {
            row[0].removeprefix(site.base)
            for row in con.execute(
                "SELECT f.url FROM fetches f JOIN runs r USING (run_id) "
                "WHERE r.status = 'interrupted'"
            ).fetchall()
        }
        statuses = [r[0] for r in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
    assert statuses[-1] == "completed"
    assert statuses[0] == ("completed" if point in ("published", "publish-copied", "run-finished")
                           else "interrupted")
    assert not committed & set(site.requests[middle:])
    if point.startswith("batch-stored"):
        assert committed, "the killed run had committed fetch batches"
