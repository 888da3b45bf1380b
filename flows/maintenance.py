"""Keep Prefect's own database bounded: delete recite's flow runs older than N days.

Every nightly run leaves a flow run, its task runs (about four per batch of URLs), its
logs and its artifacts in Prefect's database. `delete_old_flow_runs` deletes the flow
runs of recite's flows (`ingest`, `reextract`, `prefect-cleanup`) that finished, or were scheduled
and never ran, before the cutoff, together with their artifacts; the server then deletes
their task runs (cascade) and logs (a background job of the delete endpoint). Flow and
task results are not persisted at all (`persist_result=False`, `NO_CACHE`).

`recite serve` serves the `prefect-cleanup` flow as deployment `prefect-cleanup/daily`;
`recite prefect-cleanup --older-than-days 30` runs the same deletion once. A long-running
`prefect server start` can do this itself as well (README: "Operating with Prefect").
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from prefect import flow, get_client, get_run_logger
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import ObjectNotFound
from pydantic import Field

RECITE_FLOWS = ("ingest", "reextract", "prefect-cleanup")
DELETABLE_STATES = (
    StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED,
    StateType.SCHEDULED,  # scheduled (late) runs that never ran
)
PAGE = 100


async def delete_old_flow_runs(
    older_than_days: float, flows: tuple[str, ...] = RECITE_FLOWS, now: datetime | None = None
) -> int:
    """Delete the flow runs of `flows` expected to start before now - `older_than_days`.

    Only finished runs and never-started scheduled runs are deleted; their artifacts go
    first. Returns how many flow runs were deleted.
    """
    cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    deleted = 0
    async with get_client() as client:
        while True:
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=list(flows))),
                flow_run_filter=FlowRunFilter(
                    expected_start_time=FlowRunFilterExpectedStartTime(before_=cutoff),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(DELETABLE_STATES))),
                ),
                sort=FlowRunSort.EXPECTED_START_TIME_ASC,  # the server refuses `sort: null`
                limit=PAGE,
            )
            if not runs:
                return deleted
            for run in runs:
                await _delete_artifacts(client, run.id)
                try:
                    await client.delete_flow_run(run.id)
                except ObjectNotFound:
                    continue  # deleted meanwhile (the server's own vacuum, another cleanup)
                deleted += 1
            if len(runs) < PAGE:
                return deleted


async def _delete_artifacts(client: PrefectClient, flow_run_id: UUID) -> None:
    # Not `client.read_artifacts`: it sends `"artifacts": null` etc. for unset filters,
    # which this server (Prefect 3.8.8 with fastapi 0.154) refuses with a 422.
    response = await client.request(
        "POST", "/artifacts/filter",
        json={"flow_runs": {"id": {"any_": [str(flow_run_id)]}}, "limit": 200},
    )
    for artifact in response.json():
        try:
            await client.delete_artifact(UUID(artifact["id"]))
        except ObjectNotFound:
            continue


@flow(name="prefect-cleanup", persist_result=False, log_prints=False)
async def prefect_cleanup(older_than_days: Annotated[int, Field(ge=1, le=3650)] = 30) -> int:
    """Delete recite's flow runs (and their task runs, logs, artifacts) older than N days.

    Args:
        older_than_days: Flow runs expected to start more than this many days ago are deleted.
    """
    deleted = await delete_old_flow_runs(older_than_days)
    get_run_logger().info("deleted %d flow runs older than %d days", deleted, older_than_days)
    return deleted
