"""Smoke test of benchmarks/report_scale.py at a tiny size (no timing asserted)."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_at_a_tiny_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("report_scale")
    args = ["--docs", "300", "--hosts", "20", "--changed", "30", "--batch", "100",
            "--dir", str(tmp_path)]
    assert bench.main(args) == 0
    database, report = capsys.readouterr().out.splitlines()[-2:]
    assert database.startswith("database: ") and "documents" in database
    assert "changed pages" in database
    assert report.startswith("report: ") and "peak memory" in report
    assert "largest" in report and "files" in report
    assert list(tmp_path.iterdir()) == []  # the database and report are removed
