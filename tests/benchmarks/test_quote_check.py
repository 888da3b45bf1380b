"""Smoke test of benchmarks/quote_check.py at a tiny size."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_on_a_tiny_corpus(tiny_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("quote_check")
    args = ["--corpus", str(tiny_corpus), "--docs", "50,100", "--quotes", "40", "--new", "10"]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "corpus of 50 documents" in out and "corpus of 100 documents" in out
    assert "index build:" in out and "postings" in out and "quote lookup:" in out
    assert "quote-check time" in out and "peak memory" in out
    # Half of the quotations are copied from cited pages: found there, and in the index.
    assert "'exact': 0" not in out and " (0 (quotation, document) sightings)" not in out
