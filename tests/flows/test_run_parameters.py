"""Fields a run leaves out come from the deployment's defaults, else the environment."""

import asyncio

import pytest

from flows.run_parameters import complete_parameters
from flows.settings import IngestParameters


def test_fields_left_out_come_from_the_environment_outside_deployments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECITE_DB", "/srv/recite/recite.duckdb")
    monkeypatch.setenv("RECITE_PER_HOST_DELAY", "3")
    given = IngestParameters(seeds=["a.txt"], per_host_delay=0.5)
    done = asyncio.run(complete_parameters(given))
    assert done.db == "/srv/recite/recite.duckdb"
    assert done.seeds == ["a.txt"] and done.per_host_delay == 0.5


def test_fully_given_parameters_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECITE_DB", "/elsewhere.duckdb")
    given = IngestParameters(**IngestParameters().model_dump())
    assert asyncio.run(complete_parameters(given)) is given
