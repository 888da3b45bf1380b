"""Smoke test of benchmarks/startup.py against the session's Prefect server (no timing asserts)."""

import pytest

from .conftest import load_benchmark


@pytest.mark.usefixtures("prefect_harness")
def test_runs_against_a_running_server(capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL

    bench = load_benchmark("startup")
    assert bench.main(["--repeat", "1", "--no-ephemeral", "--no-recite-server",
                       "--api-url", str(PREFECT_API_URL.value())]) == 0
    out = capsys.readouterr().out
    assert "Prefect alone" in out and "recite run --seeds" in out
    assert "recite's own start-up" in out and "until the flow begins" in out


@pytest.mark.usefixtures("prefect_harness")
def test_recite_run_finds_the_server_recite_server_started(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`recite server` starts Prefect's server in the background; `recite run` then uses it."""
    from prefect.settings import PREFECT_API_URL

    bench = load_benchmark("startup")
    assert bench.main(["--repeat", "1", "--no-ephemeral",
                       "--api-url", str(PREFECT_API_URL.value())]) == 0
    out = capsys.readouterr().out
    assert "recite server:" in out and "(finds the server)" in out


@pytest.mark.usefixtures("prefect_harness")
def test_times_the_temporary_server_before_and_after(capsys: pytest.CaptureFixture[str]) -> None:
    """Without PREFECT_API_URL: Prefect's own temporary server, then recite's started first."""
    from prefect.settings import PREFECT_API_URL

    bench = load_benchmark("startup")
    assert bench.main(["--repeat", "1", "--no-fresh-home", "--no-recite-server",
                       "--api-url", str(PREFECT_API_URL.value())]) == 0
    out = capsys.readouterr().out
    assert "before: Prefect starts its server" in out and "after: recite starts it" in out
    assert "until the flow begins" in out and "later runs:" in out
