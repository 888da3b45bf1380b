"""Smoke test of benchmarks/network_backend.py on a tiny synthetic corpus (no timing asserts)."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_both_backends_and_reports(
    tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load_benchmark("network_backend")
    assert bench.main(["--corpus", str(tiny_corpus), "--pages", "12", "--hosts", "3",
                       "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("12/12 ok") == 2
    assert "httpcore's backend / asyncio streams:" in out
