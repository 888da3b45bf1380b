"""Smoke test of benchmarks/dedup_scale.py at a tiny size."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_on_a_tiny_corpus(tiny_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("dedup_scale")
    assert bench.main(["--corpus", str(tiny_corpus), "--docs", "60", "--new", "10"]) == 0
    out = capsys.readouterr().out
    assert "60 documents" in out
    assert "candidate pairs (new x stored)" in out and "verified pairs" in out


def test_runs_without_a_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("dedup_scale")
    assert bench.main(["--docs", "40", "--new", "4", "--dup-rate", "0.5"]) == 0
    assert "incremental: 4 new documents against 40 stored" in capsys.readouterr().out


def test_store_mode_runs_the_duckdb_path(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("dedup_scale")
    assert bench.main(["--stores", "300,600", "--new", "40", "--dedup-batch", "15"]) == 0
    out = capsys.readouterr().out
    assert "store of 300 documents" in out and "store of 600 documents" in out
    assert "candidate_pairs" in out and "peak memory" in out
    assert "time to add 40: 600 / 300 documents" in out
    # Half of the night's documents are edited copies of stored ones: their pairs are found.
    assert " 0 new pairs" not in out
