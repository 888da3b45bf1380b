"""deployments/prefect.yaml, deployed for real: `prefect deploy --all` against `prefect server start`."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deployments.processes import Api, free_port, prefect_env, server_command, start, stop, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, dict[str, str]]]:
    home = tmp_path_factory.mktemp("prefect-yaml")
    port = free_port()
    server = start(server_command(port), prefect_env(home / "server-home"), home / "server.log")
    try:
        client = Api(f"http://127.0.0.1:{port}/api")
        wait_for(client.healthy, 150, "prefect server start to answer /api/health")
        yield client, prefect_env(home / "client-home", PREFECT_API_URL=client.url)
    finally:
        stop(server)


def prefect(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prefect", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )


def test_every_deployment_of_the_file_deploys(api: tuple[Api, dict[str, str]]) -> None:
    client, env = api
    made = prefect(env, "work-pool", "create", "recite", "--type", "process")
    assert made.returncode == 0, made.stdout + made.stderr
    deployed = prefect(env, "--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml")
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]

    expected = {
        ("ingest", "nightly"): "flows/ingest.py:ingest",
        ("ingest", "adhoc"): "flows/ingest.py:ingest",
        ("reextract", "adhoc"): "flows/reextract.py:reextract",
        ("prefect-cleanup", "daily"): "flows/maintenance.py:prefect_cleanup",
    }
    for (flow, name), entrypoint in expected.items():
        dep = client.deployment(flow, name)
        assert dep["entrypoint"] == entrypoint
        assert dep["work_pool_name"] == "recite"
    assert [s["schedule"]["cron"] for s in client.deployment("ingest", "nightly")["schedules"]] == ["0 2 * * *"]
    assert client.deployment("reextract", "adhoc")["schedules"] == []
    assert client.deployment("reextract", "adhoc")["enforce_parameter_schema"] is True
