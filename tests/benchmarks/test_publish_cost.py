"""Smoke test of benchmarks/publish_cost.py at a tiny size."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_at_a_tiny_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("publish_cost")
    assert bench.main(["--sizes", "0.5", "4", "--repeat", "2", "--dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["MB", "min", "s", "median", "s", "MB/s"]
    sizes = [float(line.split()[0]) for line in lines[2:]]
    assert len(sizes) == 2 and sizes[1] >= 4
    assert list(tmp_path.iterdir()) == []  # each size's databases are removed
