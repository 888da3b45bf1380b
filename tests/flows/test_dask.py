"""--task-runner dask: extract and sign on a Dask cluster, same database as the default.

Fetching stays in the flow process with the run's one Fetcher (issue 17): across every
batch in flight a host gets its per-host delay and its robots.txt is fetched once. The
server's own access log is the judge.
"""

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.batches import split_evenly
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
    fields: dict[str, object] = dict(
        seeds=[str(seeds)], db=str(db), allow_private_addresses=True, allowed_ports=[],
        per_host_delay=0.0, per_host_concurrency=4, batch_size=5, dedup_batch=4,
        max_attempts=1, connect_timeout=2, read_timeout=2, total_timeout=5,
        memento_timegate="",
    )
    return IngestParameters(**{**fields, **extra})


# The Fetcher spaces the starts it stamps; the site logs a request once it has read it,
# after the flow's event loop sent it (a synchronous store step can hold that back) and
# after accepting a new connection in a new thread. Measured here: 0.35 s at DELAY 0.4.
# Without politeness across batches the gaps were ~0.08 s, and robots.txt came per part.
SLACK = 0.2
DELAY = 0.4


def test_dask_runner_stores_what_the_default_runner_stores_and_stays_polite(
    tmp_path: Path, site: Site, cluster: str
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    paths = [f"/gen/{n}" for n in range(9)] + ["/gen/2-copy", "/reprint/geneva-talks",
                                               "/news/geneva-talks", "/missing", "/report.pdf"]
    # Two hosts on the one server (127.0.0.1 and localhost), their URLs interleaved so
    # that every batch holds both.
    other = site.base.replace("127.0.0.1", "localhost")
    urls = [(site.base if i % 2 else other) + p for i, p in enumerate(paths)]
    (seeds / "a.txt").write_text("\n".join(urls[::2]) + "\n")
    (seeds / "b.md").write_text(" ".join(f"[x]({u})" for u in urls[1::2]) + "\n")
    default = parameters(seeds, tmp_path / "default" / "recite.duckdb", per_host_delay=DELAY)
    on_dask = parameters(seeds, tmp_path / "dask" / "recite.duckdb", per_host_delay=DELAY,
                         task_runner="dask", dask_address=cluster)

    first = asyncio.run(ingest(default))
    logged = len(site.access)
    second = asyncio.run(ingest(on_dask))
    access = site.access[logged:]

    assert first.counts == second.counts
    assert second.count("documents", "page_changed") >= 10
    assert contents(default.db) == contents(on_dask.db)
    # On the wire: each host's requests, across all batches, at least DELAY apart, and
    # its robots.txt asked for once.
    hosts = {host for _, host, _ in access}
    assert len(hosts) == 2
    for host in hosts:
        times = sorted(t for t, h, _ in access if h == host)
        assert len(times) >= 7
        assert min(b - a for a, b in itertools.pairwise(times)) >= DELAY - SLACK, host
        assert [p for _, h, p in access if h == host].count("/robots.txt") == 1, host
    # Extraction and signing ran on the cluster, in several batches; fetching did not.
    ran = _tasks_run_by(cluster)
    assert ran.get("extract_pages", 0) >= 3
    assert ran.get("sign_rows", 0) >= 3
    assert not any(name.startswith("fetch") for name in ran)


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


def test_split_evenly_keeps_order_and_balance() -> None:
    parts = split_evenly(list(range(11)), 3)
    assert parts == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    assert split_evenly([1, 2], 4) == [[1], [2]]
    assert split_evenly([], 2) == []
