"""Smoke test of benchmarks/store_cpu.py at a tiny size (no timing asserts)."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_stores_every_batch_and_reports_each_part(
    tiny_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load_benchmark("store_cpu")
    cache = tmp_path / "extractions.pickle"
    args = ["--corpus", str(tiny_corpus), "--pages", "12", "--batch", "5", "--workers", "1",
            "--cache", str(cache)]
    assert bench.main(args) == 0
    assert cache.exists()
    assert bench.main([*args, "--rounds", "2"]) == 0  # from the cache
    out = capsys.readouterr().out
    assert "12 pages" in out and "round 2:" in out
    for part in ("save_batch", "sign", "verify", "passages", "ms per page"):
        assert part in out


def test_stores_what_the_flow_stores(tiny_corpus: Path, tmp_path: Path) -> None:
    bench = load_benchmark("store_cpu")
    args = bench.parse_args(["--corpus", str(tiny_corpus), "--pages", "8", "--workers", "1"])
    pages, charsets, extractions = bench.pages_and_extractions(args)
    results = [bench.fetch_result(i, p, c, bench.datetime.now(bench.UTC))
               for i, (p, c) in enumerate(zip(pages, charsets, strict=True))]
    db = tmp_path / "recite.duckdb"
    bench.store_all(results, extractions, 3, db)
    con = bench.WorkingDatabase(db).open().con
    counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("documents", "versions", "doc_signatures", "responses")]
    assert counts == [8, 8, 8, 8]
