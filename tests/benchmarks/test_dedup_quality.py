"""Smoke test of benchmarks/dedup_quality.py on a tiny synthetic corpus."""

from pathlib import Path

import pytest

from .conftest import load_benchmark


def test_runs_and_reports(tiny_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark("dedup_quality")
    code = bench.main(["--corpus", str(tiny_corpus), "--variants", "3", "--passages", "6"])
    out = capsys.readouterr().out
    assert code == 0
    assert "6 pages extracted" in out
    assert "precision" in out and "datasketch MinHashLSH" in out
    assert "exact copies planted 3" in out
    # Verified pairs are true pairs, whatever the corpus.
    assert "recite (" in out and "precision 1.0000" in out


def test_ground_truth_counts_every_shared_pair() -> None:
    import numpy as np

    bench = load_benchmark("dedup_quality")
    sets = [np.array(s, dtype=np.uint64) for s in ([1, 2, 3], [2, 3, 4], [9], [1, 2, 3])]
    truth = bench.all_pairs_jaccard(sets)
    assert truth == {(0, 1): 0.5, (0, 3): 1.0, (1, 3): 0.5}


def test_empty_corpus(tmp_path: Path) -> None:
    bench = load_benchmark("dedup_quality")
    assert bench.main(["--corpus", str(tmp_path)]) == 1
