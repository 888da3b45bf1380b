"""Dedup inside the flow: verified pairs, clusters, repeated passages, incremental runs."""

import asyncio
from pathlib import Path

import duckdb
import pytest

from dedup import content_hash
from flows.ingest import ingest
from flows.settings import IngestParameters
from tests.flows.test_ingest import params, query
from tests.site import COMMENTS_CLOSED, Site

pytestmark = pytest.mark.usefixtures("prefect_harness")


def seed_file(folder: Path, name: str, site: Site, paths: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("Sources:\n" + "\n".join(site.url(p) for p in paths) + "\n")
    return path


def test_near_duplicates_clusters_and_boilerplate(tmp_path: Path, site: Site) -> None:
    seeds = tmp_path / "seeds"
    seed_file(seeds, "a.txt", site, ["/news/geneva-talks", "/reprint/geneva-talks"])
    seed_file(seeds, "b.txt", site, ["/copy/geneva-talks", "/opinion/one", "/opinion/two",
                                     "/opinion/three"])
    p = params(tmp_path, [seeds], boilerplate_min_docs=3)
    summary = asyncio.run(ingest(p))

    original, reprint, copy = (site.url(x) for x in (
        "/news/geneva-talks", "/reprint/geneva-talks", "/copy/geneva-talks"))
    pairs = {
        frozenset((a, b)): (j, exact)
        for a, b, j, exact in query(p.db, "SELECT url_a, url_b, jaccard, exact FROM near_duplicates")
    }
    assert pairs[frozenset((original, copy))] == (1.0, True)
    jaccard, exact = pairs[frozenset((original, reprint))]
    assert 0.8 <= jaccard < 1.0 and not exact
    assert all(x < y for x, y in query(p.db, "SELECT doc_a, doc_b FROM near_duplicates"))

    clusters = query(p.db, "SELECT url, canonical_url, is_canonical FROM duplicate_clusters")
    assert {u for u, _, _ in clusters} == {original, reprint, copy}
    canonicals = {c for _, c, _ in clusters}
    assert len(canonicals) == 1
    # Seen in the same batch: the longest text wins (the reprint added a word).
    assert canonicals == {reprint}
    corpus_urls = {u for (u,) in query(p.db, "SELECT url FROM corpus WHERE kind = 'page'")}
    assert corpus_urls == {reprint} | {
        site.url(f"/opinion/{n}") for n in ("one", "two", "three")
    }

    boiler = query(
        p.db, "SELECT occurrences, documents, sites, is_boilerplate FROM repeated_passages "
        f"WHERE text = '{COMMENTS_CLOSED}'",
    )
    assert boiler == [(3, 3, 1, True)]
    assert summary.count("dedup", "signed") == 8  # 2 seeds and 6 pages
    # Pages are signed with the content hash found while their passages were keyed
    # (issue 20), seeds with one computed when signing: both what content_hash gives.
    signed = query(p.db, "SELECT d.kind, d.text, s.norm_content_hash FROM documents d "
                         "JOIN doc_signatures s USING (doc_id)")
    assert {kind for kind, _, _ in signed} == {"page", "seed"}
    assert all(h == content_hash(text) for _, text, h in signed)


def test_incremental_second_run_signs_nothing_and_keeps_results(tmp_path: Path, site: Site) -> None:
    seeds = tmp_path / "seeds"
    seed_file(seeds, "a.txt", site, ["/news/geneva-talks", "/reprint/geneva-talks"])
    p = params(tmp_path, [seeds])
    asyncio.run(ingest(p))
    snapshot = {
        view: query(p.db, f"SELECT * FROM {view} ORDER BY ALL")
        for view in ("near_duplicates", "duplicate_clusters", "repeated_passages")
    }
    second = asyncio.run(ingest(p))
    assert second.count("dedup", "signed") == 0
    for view, rows in snapshot.items():
        assert query(p.db, f"SELECT * FROM {view} ORDER BY ALL") == rows, view

    # A new seed citing a copy: only the new documents are signed, and the copy joins.
    seed_file(seeds, "b.txt", site, ["/copy/geneva-talks"])
    third = asyncio.run(ingest(p))
    assert third.count("dedup", "signed") == 2  # the new seed and the copy
    cluster_urls = {u for (u,) in query(p.db, "SELECT url FROM duplicate_clusters")}
    assert site.url("/copy/geneva-talks") in cluster_urls and len(cluster_urls) == 3


def test_example_seed_headlines_are_repeated_passages(tmp_path: Path) -> None:
    from tests.flows.test_examples import EXAMPLES

    p = IngestParameters(seeds=[str(EXAMPLES / "001_900827631f3fbf33.txt"),
                                str(EXAMPLES / "002_a17f2fcfdfc9c411.txt")],
                         db=str(tmp_path / "x.duckdb"), memento_timegate="")
    asyncio.run(ingest(p))
    with duckdb.connect(p.db, read_only=True) as con:
        rows = con.execute(
            "SELECT text, occurrences, documents FROM repeated_passages ORDER BY occurrences DESC"
        ).fetchall()
    found = {text[:40]: (occ, docs) for text, occ, docs in rows}
    assert found["Borrell says that any discussion between"] == (3, 1)
    assert found["Putin’s flexible red lines, NATO securit"] == (2, 1)
