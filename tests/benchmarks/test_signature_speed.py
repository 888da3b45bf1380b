"""Smoke test of benchmarks/signature_speed.py on a tiny synthetic corpus."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_and_reports(tiny_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("signature_speed")
    assert bench.main(["--corpus", str(tiny_corpus), "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "recite == datasketch(hashfunc=recite) on a sample: True" in out
    assert "docs/s" in out and "ratio recite / datasketch" in out
