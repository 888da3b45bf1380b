"""Smoke test of benchmarks/cpu_bounds.py at a tiny size (no timing asserts)."""

import pytest

from .conftest import load_benchmark


def test_runs_and_reports_every_path(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("cpu_bounds")
    assert bench.main(["--scale", "0.002", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("charset detection", "html citations", "extraction (trafilatura)",
                 "url: long path", "markdown: a line of '['", "seed read", "seed past the cap"):
        assert name in out
    assert "highest ratio:" in out


def test_verdicts() -> None:
    bench = load_benchmark("cpu_bounds")
    assert bench.verdict(1.1) == "bounded (capped)"
    assert bench.verdict(10.0) == "linear"
    assert bench.verdict(100.0) == "SUPERLINEAR"
