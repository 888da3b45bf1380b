"""--task-runner dask: fetch, extract and sign on a Dask cluster, same database as the default."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from fetching.records import FetchRequest
from flows.batches import split_by_host
from flows.ingest import ingest
from flows.settings import IngestParameters
from tests.site import Site

pytestmark = pytest.mark.usefixtures("prefect_harness")

# Everything but times and run ids, which differ between any two runs.
CONTENTS = {
    "documents": "SELECT doc_id, kind, url, canonical_url, title, author, published, sitename, "
                 "language, text, content_sha256 FROM documents",
    "passages": "SELECT doc_id, ordinal, text, norm_hash, counts_for_repeats FROM passages",
    "citations": "SELECT doc_id, url, raw_url, kind FROM citations",
    "urls": "SELECT url, host, last_outcome, last_status_code, final_url, canonical_url, doc_id, "
            "etag, last_modified, fetch_count FROM urls",
    "fetches": "SELECT url, attempt, status_code, final_url, redirect_chain, outcome, bytes, "
               "is_final FROM fetches",
    "responses": "SELECT url, final_url, status_code, content_type, charset, body_sha256, "
                 "body_bytes FROM responses",
    "signatures": "SELECT doc_id, content_sha256, norm_content_hash, shingles, signature "
                  "FROM doc_signatures",
    "bands": "SELECT doc_id, band, band_key FROM doc_bands",
    "pairs": "SELECT doc_a, doc_b, round(jaccard, 9), exact FROM duplicate_pairs",
    "clusters": "SELECT * FROM clusters",
    "passage_pairs": "SELECT hash_a, hash_b, round(jaccard, 9) FROM passage_pairs",
}


def contents(db: str) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(db, read_only=True) as con:
        return {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in CONTENTS.items()}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Dask cluster of two single-threaded worker processes; its scheduler address."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as running:
        yield running.scheduler_address


def parameters(seeds: Path, db: Path, **extra: object) -> IngestParameters:
    return IngestParameters(
        seeds=[str(seeds)], db=str(db), allow_private_addresses=True, allowed_ports=[],
        per_host_delay=0.0, per_host_concurrency=4, batch_size=5, dedup_batch=4,
        max_attempts=1, connect_timeout=2, read_timeout=2, total_timeout=5,
        memento_timegate="", **extra,  # type: ignore[arg-type]
    )


def test_dask_runner_stores_what_the_default_runner_stores(
    tmp_path: Path, site: Site, cluster: str
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    paths = [f"/gen/{n}" for n in range(9)] + ["/gen/2-copy", "/reprint/geneva-talks",
                                               "/news/geneva-talks", "/missing", "/report.pdf"]
    (seeds / "a.txt").write_text("\n".join(site.url(p) for p in paths[::2]) + "\n")
    (seeds / "b.md").write_text(" ".join(f"[x]({site.url(p)})" for p in paths[1::2]) + "\n")
    default = parameters(seeds, tmp_path / "default" / "recite.duckdb")
    on_dask = parameters(seeds, tmp_path / "dask" / "recite.duckdb",
                         task_runner="dask", dask_address=cluster)

    first = asyncio.run(ingest(default))
    second = asyncio.run(ingest(on_dask))

    assert first.counts == second.counts
    assert second.count("documents", "page_changed") >= 10
    assert contents(default.db) == contents(on_dask.db)
    # The batches did run on the cluster.
    ran = _tasks_run_by(cluster)
    assert ran.get("fetch_batch_alone", 0) >= 3
    assert ran.get("extract_here", 0) >= 3
    assert ran.get("sign_rows", 0) >= 3


def _tasks_run_by(address: str) -> dict[str, int]:
    """Tasks the scheduler saw finish, by function name (Dask's key prefix)."""
    from distributed import Client

    def count(dask_scheduler: Any) -> dict[str, int]:
        # state_counts is cumulative: every task that ever reached memory (was computed).
        return {name: int(prefix.state_counts.get("memory", 0))
                for name, prefix in dask_scheduler.task_prefixes.items()}

    with Client(address) as client:
        result: dict[str, int] = client.run_on_scheduler(count)
        return result


def test_a_host_stays_in_one_part() -> None:
    urls = [f"http://h{i % 5}.test:8080/p/{i}" for i in range(40)]
    groups = split_by_host([FetchRequest(u) for u in urls], 3)
    hosts = [{r.url.split("/")[2] for r in g} for g in groups]
    assert sum(len(g) for g in groups) == 40
    assert all(not (a & b) for i, a in enumerate(hosts) for b in hosts[i + 1 :])
