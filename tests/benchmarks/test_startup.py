"""Smoke test of benchmarks/startup.py against the session's Prefect server (no timing asserts)."""

import pytest

from .conftest import load_benchmark


@pytest.mark.usefixtures("prefect_harness")
def test_runs_against_a_running_server(capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL

    bench = load_benchmark("startup")
    assert bench.main(["--repeat", "1", "--no-ephemeral", "--api-url", str(PREFECT_API_URL.value())]) == 0
    out = capsys.readouterr().out
    assert "Prefect alone" in out and "recite run --seeds" in out
    assert "recite's own start-up" in out
