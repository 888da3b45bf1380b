"""`recite serve` against a real `prefect server start`, driven through the REST API.

One Prefect server and one serve process for the module (starting them costs ~20 s);
the tests run in file order and share them. Everything started here is stopped by its
PID in a `finally`.
"""

import asyncio
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from flows.concurrency import holder, lock_path
from tests.deployments.processes import (
    Api,
    free_port,
    prefect_env,
    serve_command,
    server_command,
    start,
    stop,
    wait_for,
)
from tests.site import Site, serve_site

CRON = "17 4 * * *"
TIMEZONE = "Europe/Berlin"


class Served:
    """The `recite serve` process, which a test may stop and start again."""

    def __init__(self, api: Api, workdir: Path) -> None:
        self.api = api
        self.workdir = workdir
        self.db = workdir / "data" / "recite.duckdb"
        self.default_seeds = workdir / "default-seeds"
        self.default_seeds.mkdir(parents=True, exist_ok=True)
        (self.default_seeds / "note.txt").write_text("A default seed without citations.\n")
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return prefect_env(
            self.workdir / "serve-home",
            PREFECT_API_URL=self.api.url,
            RECITE_DB=str(self.db),
            RECITE_SEEDS=str(self.default_seeds),
            RECITE_SCHEDULE_TIMEZONE=TIMEZONE,
            RECITE_EXTRACT_WORKERS="1",
            RECITE_CONNECT_TIMEOUT="2", RECITE_READ_TIMEOUT="5", RECITE_MAX_ATTEMPTS="1",
        )

    def start(self) -> None:
        self.process = start(serve_command("--cron", CRON), self.env(), self.workdir / "serve.log")
        wait_for(self._registered, 90, "recite serve to register its deployments")

    def _registered(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"recite serve exited: {self.log()[-3000:]}")
        names = ("ingest/nightly", "ingest/adhoc", "reextract/adhoc", "prefect-cleanup/daily")
        found = [self.api.call("GET", f"/deployments/name/{name}") for name in names]
        return all(status == 200 and not body["paused"] for status, body in found)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def log(self) -> str:
        path = self.workdir / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve")


@pytest.fixture(scope="module")
def api(workdir: Path) -> Iterator[Api]:
    port = free_port()
    server = start(server_command(port), prefect_env(workdir / "server-home"), workdir / "server.log")
    try:
        client = Api(f"http://127.0.0.1:{port}/api")

        def up() -> bool:
            if server.poll() is not None:
                raise AssertionError((workdir / "server.log").read_text()[-3000:])
            return client.healthy()

        wait_for(up, 150, "prefect server start to answer /api/health")
        yield client
    finally:
        stop(server)


@pytest.fixture(scope="module")
def served(api: Api, workdir: Path) -> Iterator[Served]:
    handle = Served(api, workdir)
    try:
        handle.start()
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def gated() -> Iterator[Site]:
    """A site of its own for the writer-lock test: its /gate/ pages wait for the gate."""
    with serve_site() as site:
        yield site


def local_params(seeds: Path, **extra: Any) -> dict[str, Any]:
    """Run parameters for the local test sites; every other field is the deployment's."""
    return {
        "params": {
            "seeds": [str(seeds)], "allow_private_addresses": True, "allowed_ports": [],
            "per_host_delay": 0, **extra,
        }
    }


def create_run(
    api: Api, deployment: str, parameters: dict[str, Any], flow: str = "ingest"
) -> tuple[int, Any]:
    dep = api.deployment(flow, deployment)
    return api.call("POST", f"/deployments/{dep['id']}/create_flow_run", {"parameters": parameters})


def write_seed(folder: Path, name: str, urls: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("Sources:\n" + "\n".join(urls) + "\n")
    return folder


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def artifact_data(artifact: dict[str, Any]) -> Any:
    data = artifact["data"]
    return json.loads(data) if isinstance(data, str) and artifact["type"] == "table" else data


def test_nightly_is_scheduled_and_adhoc_is_not(served: Served) -> None:
    api = served.api
    nightly = api.deployment("ingest", "nightly")
    adhoc = api.deployment("ingest", "adhoc")
    [schedule] = nightly["schedules"]
    assert schedule["active"] and schedule["schedule"]["cron"] == CRON
    assert schedule["schedule"]["timezone"] == TIMEZONE
    assert adhoc["schedules"] == []
    for dep in (nightly, adhoc):
        assert dep["enforce_parameter_schema"] is True
        assert dep["global_concurrency_limit"]["limit"] == 1  # one run per deployment at a time
        assert dep["entrypoint"] == "flows.ingest.ingest"
        # Defaults come from the RECITE_* environment of `recite serve`.
        assert dep["parameters"]["params"]["db"] == str(served.db)
        assert dep["parameters"]["params"]["seeds"] == [str(served.default_seeds)]
        assert dep["parameters"]["params"]["extract_workers"] == 1
    assert api.deployment("prefect-cleanup", "daily")["parameters"] == {"older_than_days": 30}

    upcoming = wait_for(
        lambda: api.flow_runs(nightly["id"], ["SCHEDULED"]), 60, "upcoming nightly runs"
    )
    for run in upcoming:
        local = datetime.fromisoformat(run["expected_start_time"]).astimezone(ZoneInfo(TIMEZONE))
        assert (local.hour, local.minute) == (4, 17)


def test_parameter_form_has_help_text_and_bounds(served: Served) -> None:
    schema = served.api.deployment("ingest", "adhoc")["parameter_openapi_schema"]
    assert list(schema["properties"]) == ["params"]
    assert "deployment's defaults" in schema["properties"]["params"]["description"]
    fields = schema["definitions"]["IngestParameters"]["properties"]
    assert all(f.get("description") for f in fields.values()), fields
    assert (fields["dedup_threshold"]["minimum"], fields["dedup_threshold"]["maximum"]) == (0.5, 1.0)
    assert (fields["concurrency"]["minimum"], fields["concurrency"]["maximum"]) == (1, 512)
    assert schema["definitions"]["IngestParameters"]["additionalProperties"] is False


def test_invalid_parameter_is_refused_before_a_run_exists(served: Served) -> None:
    api = served.api
    adhoc = api.deployment("ingest", "adhoc")
    before = len(api.flow_runs(adhoc["id"]))

    status, body = create_run(api, "adhoc", {"params": {"dedup_threshold": 5}})
    assert status == 409, body
    assert "dedup_threshold" in body["detail"] and "maximum" in body["detail"]
    status, body = create_run(api, "adhoc", {"params": {"no_such_setting": 1}})
    assert status == 409, body

    cli = subprocess.run(
        [sys.executable, "-m", "prefect", "deployment", "run", "ingest/adhoc",
         "--params", '{"params": {"dedup_threshold": 5}}'],
        env=served.env(), capture_output=True, text=True, timeout=120,
    )
    assert cli.returncode != 0
    assert "dedup_threshold" in cli.stdout + cli.stderr
    assert len(api.flow_runs(adhoc["id"])) == before

    # The UI's "Validate parameters" box unticked skips the server's check: the run is
    # created, and fails on the flow's own validation before it touches the database.
    status, run = api.call(
        "POST", f"/deployments/{adhoc['id']}/create_flow_run",
        {"parameters": {"params": {"dedup_threshold": 5}}, "enforce_parameter_schema": False},
    )
    assert status == 201, run
    failed = api.wait_state(run["id"], "FAILED", 120)
    assert "dedup_threshold" in failed["state"]["message"]
    assert not served.db.exists() and not lock_path(served.db).exists()


def test_adhoc_run_completes_with_results_and_artifacts(served: Served, site: Site, workdir: Path) -> None:
    api = served.api
    urls = [site.url("/news/geneva-talks"), site.url("/news/borrell"), site.url("/missing")]
    seeds = write_seed(workdir / "adhoc-seeds", "a.txt", urls)
    status, run = create_run(api, "adhoc", local_params(seeds, batch_size=2))
    assert status == 201, run
    done = api.wait_state(run["id"], "COMPLETED", 150)
    assert done["deployment_id"] == api.deployment("ingest", "adhoc")["id"]

    outcomes = dict(query(served.db, "SELECT url, last_outcome FROM urls"))
    assert outcomes == {urls[0]: "ok", urls[1]: "ok", urls[2]: "http_4xx"}
    [(status_, parameters)] = query(
        served.db, f"SELECT status, parameters FROM runs WHERE run_id = '{run['id']}'"
    )
    assert status_ == "completed"
    stored = json.loads(parameters)
    assert stored["db"] == str(served.db)  # not given in the run: the deployment's default
    assert stored["batch_size"] == 2 and stored["extract_workers"] == 1

    # Batching: 2 task runs per run (read, store seeds), 3 per batch of URLs (fetch, extract,
    # store), 2 for dedup (clusters, passages) + 1 per dedup batch of new documents (3 here),
    # 1 for the quote step.
    tasks = api.post("/task_runs/count", {"flow_runs": {"id": {"any_": [run["id"]]}}})
    assert tasks == 2 + 3 * math.ceil(len(urls) / 2) + 2 + 1 + 1

    artifacts = api.artifacts(run["id"])
    assert set(artifacts) == {"recite-run-counts", "recite-run-report", "recite-fetch-progress"}
    counts = {(r["stage"], r["reason"]): r["count"] for r in artifact_data(artifacts["recite-run-counts"])}
    assert counts[("fetch", "ok")] == 2 and counts[("fetch", "http_4xx")] == 1
    assert float(artifacts["recite-fetch-progress"]["data"]) == 100.0
    report = artifacts["recite-run-report"]["data"]
    assert "## New and changed documents" in report and "Geneva talks end without breakthrough" in report
    assert "## Most repeated passages" in report and "## New duplicate clusters" in report


def test_reextract_runs_from_its_deployment(served: Served) -> None:
    api = served.api
    dep = api.deployment("reextract", "adhoc")
    assert dep["schedules"] == [] and dep["enforce_parameter_schema"] is True
    assert dep["parameters"]["params"]["db"] == str(served.db)
    assert dep["parameters"]["params"]["extract_workers"] == 1
    (pages,) = query(served.db, "SELECT count(*) FROM documents WHERE kind = 'page'")[0]
    assert pages >= 2  # written by the adhoc ingest run above

    # Only batch_size given: the database comes from the deployment, as for ingest.
    status, run = create_run(api, "adhoc", {"params": {"batch_size": 1}}, flow="reextract")
    assert status == 201, run
    api.wait_state(run["id"], "COMPLETED", 150)
    [(status_, parameters)] = query(
        served.db, f"SELECT status, parameters FROM runs WHERE run_id = '{run['id']}'"
    )
    stored = json.loads(parameters)
    assert status_ == "completed"
    assert stored["flow"] == "reextract" and stored["db"] == str(served.db)
    assert stored["batch_size"] == 1 and stored["extract_workers"] == 1
    # Nothing changed in the archive, so the same documents, none rewritten.
    assert query(served.db, "SELECT count(*) FROM documents WHERE kind = 'page'")[0] == (pages,)


def test_a_second_run_waits_for_the_writer_and_nothing_is_lost(
    served: Served, gated: Site, workdir: Path
) -> None:
    api = served.api
    first_urls = [gated.url("/gate/first-1"), gated.url("/gate/first-2")]
    second_urls = [gated.url("/page/second-1")]
    first_seeds = write_seed(workdir / "first-seeds", "first.txt", first_urls)
    second_seeds = write_seed(workdir / "second-seeds", "second.txt", second_urls)

    # Long timeouts: the gate holds the first run's fetches until the test opens it.
    status, first = create_run(
        api, "adhoc", local_params(first_seeds, read_timeout=120, total_timeout=180)
    )
    assert status == 201, first
    # The first run is fetching (held at the gate), so it holds the writer slot.
    wait_for(lambda: any(p.startswith("/gate/") for p in gated.requests), 90, "the first run to fetch")
    assert (holder(served.db) or {}).get("flow_run_id") == first["id"]  # it holds the writer lock

    # The second run comes from the other deployment, so only the writer slot holds it back.
    status, second = create_run(api, "nightly", local_params(second_seeds))
    assert status == 201, second
    waiting = wait_for(
        lambda: [m for m in api.logs(second["id"]) if "waiting for it to finish" in m], 90,
        "the second run to log that it waits for the writer lock",
    )
    assert first["name"] in waiting[0]  # it says whom it waits for
    assert api.flow_run(first["id"])["state_type"] == "RUNNING"
    assert api.flow_run(second["id"])["state_type"] == "RUNNING"
    assert "/page/second-1" not in gated.requests  # it has not started its work

    gated.gate.set()
    api.wait_state(first["id"], "COMPLETED", 120)
    api.wait_state(second["id"], "COMPLETED", 120)

    rows = dict(
        (r[0], r[1:]) for r in query(
            served.db,
            f"SELECT run_id, started_at, finished_at, status FROM runs "
            f"WHERE run_id IN ('{first['id']}', '{second['id']}')",
        )
    )
    assert rows[first["id"]][2] == rows[second["id"]][2] == "completed"
    assert rows[second["id"]][0] >= rows[first["id"]][1]  # the second started after the first ended
    outcomes = dict(query(served.db, "SELECT url, last_outcome FROM urls"))
    assert all(outcomes[u] == "ok" for u in first_urls + second_urls)
    titles = {t for (t,) in query(served.db, "SELECT title FROM documents WHERE kind = 'page'")}
    assert {"Committee report first-1", "Committee report first-2", "Committee report second-1"} <= titles
    assert (holder(served.db) or {}).get("flow_run_id") == second["id"]  # the last writer


def test_cleanup_deletes_old_runs_with_their_artifacts(served: Served) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.maintenance import delete_old_flow_runs

    api = served.api
    adhoc = api.deployment("ingest", "adhoc")
    finished = api.flow_runs(adhoc["id"], ["COMPLETED"])
    assert finished

    cli = subprocess.run(
        [sys.executable, "-m", "cli.main", "prefect-cleanup", "--older-than-days", "1"],
        env=served.env(), capture_output=True, text=True, timeout=120,
    )
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert "deleted 0 flow runs" in cli.stdout  # nothing is a day old yet

    with temporary_settings({PREFECT_API_URL: api.url}):
        deleted = asyncio.run(delete_old_flow_runs(30, now=datetime.now(UTC) + timedelta(days=31)))
    assert deleted >= len(finished)
    assert api.flow_runs(adhoc["id"], ["COMPLETED"]) == []
    assert api.artifacts(finished[0]["id"]) == {}
    assert api.call("GET", f"/flow_runs/{finished[0]['id']}")[0] == 404


def test_stopping_pauses_and_the_next_start_reactivates_the_schedule(served: Served) -> None:
    api = served.api
    served.stop()
    assert api.deployment("ingest", "nightly")["paused"] is True  # what prefect.serve does on exit

    served.start()  # waits until both deployments are unpaused
    nightly = api.deployment("ingest", "nightly")
    assert nightly["paused"] is False and nightly["schedules"][0]["active"]
    wait_for(lambda: api.flow_runs(nightly["id"], ["SCHEDULED"]), 60, "upcoming nightly runs again")
