"""Smoke test of benchmarks/dedup_scale.py at a tiny size."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_on_a_tiny_corpus(tiny_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("dedup_scale")
    assert bench.main(["--corpus", str(tiny_corpus), "--stores", "60", "--new", "10"]) == 0
    out = capsys.readouterr().out
    assert "store of 60 documents" in out and "night: 10 new documents" in out
    assert " 0 new pairs" not in out  # the edited copies of stored pages are found


def test_runs_the_duckdb_path(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("dedup_scale")
    assert bench.main(["--stores", "300,600", "--new", "40", "--dedup-batch", "15"]) == 0
    out = capsys.readouterr().out
    assert "store of 300 documents" in out and "store of 600 documents" in out
    assert "candidate_pairs" in out and "peak memory" in out
    assert "time to add 40: 600 / 300 documents" in out
    assert "tail (clusters update) at 600 / 300 documents" in out
    # Half of the night's documents are edited copies of stored ones: their pairs are found.
    assert " 0 new pairs" not in out
