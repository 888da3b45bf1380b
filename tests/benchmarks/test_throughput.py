"""Smoke test of benchmarks/throughput.py at a tiny size (no timing asserts)."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


@pytest.mark.usefixtures("prefect_harness")
def test_runs_against_a_running_server(tiny_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL

    bench = load_benchmark("throughput")
    args = ["--corpus", str(tiny_corpus), "--pages", "24", "--pages-per-host", "3",
            "--per-host-delay", "0", "--workers", "2", "--no-ephemeral",
            "--api-url", str(PREFECT_API_URL.value())]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "24 pages (6 base pages" in out and "on 8 loopback hosts" in out
    assert "fixed cost per run" in out and "bare trafilatura, pool of 2" in out
    assert "outcomes: ok 24" in out and "outcomes: not_modified 24" in out
    for label in ("end-to-end ratio", "peak memory", "second / first", "fetch", "extract", "store",
                  "CPU budget for <= 1.15"):
        assert label in out


def test_the_cpu_budget_counts_what_is_beside_extraction() -> None:
    bench = load_benchmark("throughput")
    run = bench.RunFigures(wall=0.0, startup=0.0, peak_rss=0, timings={}, counts={},
                           cpu_flow=6.0, cpu_workers=40.0, peak_flow=0, peak_worker=0)
    # 2 cores for 25 s of wall: 50 core-s, of which 40 extraction and 6 + 1 beside it.
    line = bench.cpu_budget(run, 1.0, net_wall=25.0, bare=20.0, cores=2)
    assert line == ("CPU budget for <= 1.15: 6.0 core-s beside extraction; spent 7.0 "
                    "(flow process 6.0, servers 1.0) and 3.0 core-s idle")


@pytest.mark.usefixtures("prefect_harness")
def test_a_changed_fraction_makes_new_versions(tiny_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL

    bench = load_benchmark("throughput")
    changed = sum(bench.changes_on(i, 0.25) for i in range(24))
    assert 0 < changed < 24
    args = ["--corpus", str(tiny_corpus), "--pages", "24", "--pages-per-host", "3",
            "--per-host-delay", "0", "--workers", "2", "--no-ephemeral", "--no-validators",
            "--change-fraction", "0.25", "--api-url", str(PREFECT_API_URL.value())]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    # No validators: the unchanged pages come back 200 with the same body, not_modified.
    assert f"second run, {changed} pages changed" in out
    assert f"outcomes: not_modified {24 - changed}, ok {changed}" in out
    assert f"extracted {changed} pages (of {changed} changed); new versions {changed}" in out


def test_copies_differ_and_urls_spread_over_hosts(tiny_corpus: Path) -> None:
    bench = load_benchmark("throughput")
    bases = bench.load_bases(tiny_corpus)
    pages = [bench.page_bytes(bases, i) for i in range(2 * len(bases))]
    assert len(set(pages)) == len(pages)
    assert all(b"copy" + str(i).encode() in page for i, page in enumerate(pages))
    assert bench.host_of(0, 300) == "127.0.1.1" and bench.host_of(251, 300) == "127.0.2.2"
    assert bench.page_url(5, 4, 8080) == "http://127.0.1.2:8080/p/5"


def test_dup_rate_makes_the_corpus_denser(tiny_corpus: Path) -> None:
    bench = load_benchmark("throughput")
    assert len(bench.load_bases(tiny_corpus)) == 6
    dense = bench.load_bases(tiny_corpus, 24, 0.9)  # 24 pages, 2 of them distinct
    assert len(dense) == 2
    assert bench.page_bytes(dense, 2).replace(b" copy2", b"") == dense[0].html
    with pytest.raises(SystemExit):
        bench.parse_args(["--corpus", str(tiny_corpus), "--dup-rate", "1.0"])
