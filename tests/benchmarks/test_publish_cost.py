"""Smoke test of benchmarks/publish_cost.py at a tiny size."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_at_a_tiny_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("publish_cost")
    args = ["--pages", "300", "--body-kb", "20", "--changed", "50", "--repeat", "2",
            "--dir", str(tmp_path)]
    assert bench.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:3] == ["pages", "layout", "db"]
    inside, beside = (line.split() for line in lines[2:4])
    assert inside[1:3] == ["bodies", "inside"] and beside[1:3] == ["bodies", "beside"]
    # Inside, the bodies (300 x 20 KB = 5.9 MB) are in the database; beside, in the archive.
    assert float(inside[3]) > 5.5 and float(inside[4]) == 0.0
    assert float(beside[4]) > 5.5 and float(beside[3]) < float(inside[3])
    assert "faster" in lines[4]
    assert list(tmp_path.iterdir()) == []  # each store is removed
