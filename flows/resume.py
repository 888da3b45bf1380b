"""Resuming by itself: a crashed or timed-out run of a deployment starts again (issue 17).

Prefect runs a flow's `on_crashed` hooks in the process that started the run once it saw
the run's process die (a SIGKILL, the OOM killer: prefect/runner/_flow_run_executor.py),
and `on_failure` hooks in the flow's own process; a run past --timeout-hours ends in
Prefect's `TimedOut` state, a kind of Failed (storage.errors.RunTimedOut is a
TimeoutError). Either way `resume_hook` creates a new run of the same deployment with the
same parameters, which resumes from the working file after the batches already stored
(flows/lifecycle.py). It waits for the writer lock and the deployment's one-run limit.

Other failures are not retried: an unwritable database stays unwritable. Runs without a
deployment (`recite run`) are not either: the next one resumes. A run started here carries
the tag `recite-resume:<n>`, n attempts in a row, and `recite-resume-of:<id>` naming the
run it resumes, so that a run is resumed once even if two hooks see it end.
"""

from typing import Any

from prefect import Flow, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun, State
from prefect.logging.loggers import flow_run_logger
from pydantic import ValidationError

from flows.settings import Settings

ATTEMPT_TAG = "recite-resume:"
OF_TAG = "recite-resume-of:"
TIMED_OUT = "TimedOut"


def attempt_of(tags: list[str]) -> int:
    """How many resume attempts in a row led to a run with these tags (0: none)."""
    numbers = [t.removeprefix(ATTEMPT_TAG) for t in tags if t.startswith(ATTEMPT_TAG)]
    return max((int(n) for n in numbers if n.isdecimal()), default=0)


def attempts_allowed(parameters: dict[str, Any]) -> int:
    """The run's `resume_attempts`, else the RECITE_RESUME_ATTEMPTS environment's, else 2."""
    given = parameters.get("params")
    if isinstance(given, dict) and given.get("resume_attempts") is not None:
        return int(given["resume_attempts"])
    try:
        return Settings().resume_attempts
    except ValidationError:
        return int(Settings.model_fields["resume_attempts"].default)


def should_resume(flow_run: FlowRun, state: State[Any]) -> bool:
    """A crashed or timed-out run of a deployment, with attempts left."""
    if flow_run.deployment_id is None or not (state.is_crashed() or state.name == TIMED_OUT):
        return False
    return attempt_of(flow_run.tags) < attempts_allowed(flow_run.parameters)


async def resume_hook(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
    """Start the next attempt of a crashed or timed-out deployment run (see the module)."""
    if not should_resume(flow_run, state):
        return
    logger = flow_run_logger(flow_run, flow)
    assert flow_run.deployment_id is not None
    resumes = f"{OF_TAG}{flow_run.id}"
    async with get_client() as client:
        done = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[resumes])), limit=1
        )
        if done:
            return
        attempt = attempt_of(flow_run.tags) + 1
        kept = [t for t in flow_run.tags if not t.startswith((ATTEMPT_TAG, OF_TAG))]
        run = await client.create_flow_run_from_deployment(
            flow_run.deployment_id,
            parameters=flow_run.parameters,
            tags=[*kept, f"{ATTEMPT_TAG}{attempt}", resumes],
        )
    logger.warning(
        "run %s ended %s: started %s (resume attempt %d of %d)",
        flow_run.name, state.name, run.name, attempt, attempts_allowed(flow_run.parameters),
    )
