"""Smoke test of benchmarks/publish_cost.py at a tiny size."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_at_a_tiny_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("publish_cost")
    args = ["--pages", "300", "--body-kb", "20", "--changed", "50", "--repeat", "2",
            "--layouts", "inside", "copy", "rename", "--dir", str(tmp_path)]
    assert bench.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:3] == ["pages", "layout", "db"]
    inside, copy, rename = (line.split() for line in lines[2:5])
    assert [inside[1], copy[1], rename[1]] == ["inside", "copy", "rename"]
    # Inside, the bodies (300 x 20 KB = 5.9 MB) are in the database; else in the archive.
    assert float(inside[2]) > 5.5 and float(inside[3]) == 0.0
    assert float(copy[3]) > 5.5 and float(copy[2]) < float(inside[2])
    # Copies resume their working file; renames catch up the file published before,
    # and need no more disk at publish time than between runs.
    assert copy[-1] == "resumed" and rename[-1] == "caught_up"
    assert float(rename[-2]) == 1.0 and float(copy[-2]) > 1.0
    assert "faster than copy" in lines[5]
    assert list(tmp_path.iterdir()) == []  # each store is removed
