"""Where a run's parameters come from when the caller gives only some of them.

Prefect merges a run's parameters with its deployment's defaults one level deep only:
the `ingest` flow has one parameter, `params`, so a run started with
`--params '{"params": {"seeds": ["x"]}}'` would otherwise get the model's built-in
defaults for every other field (e.g. `db`), not the deployment's. So each field of
`IngestParameters` comes from, in order:

1. the run's own parameters (the fields the caller set);
2. the deployment's default `params` (for `recite serve`: the `RECITE_*` environment
   of the serve process when it started);
3. the `RECITE_*` environment of the process running the flow, then the built-in default.

The `reextract` flow takes layers 1 and 2 (`with_deployment_defaults`): its fields keep
their own defaults outside a deployment, as `recite reextract` gives them.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from prefect import get_client
from prefect.context import FlowRunContext
from pydantic import BaseModel

from flows.settings import IngestParameters, Settings

M = TypeVar("M", bound=BaseModel)


async def complete_parameters(params: IngestParameters) -> IngestParameters:
    """`params` with every field the caller did not set taken from the layers above."""
    return await _layered(params, lambda: Settings().model_dump())


async def with_deployment_defaults(params: M) -> M:
    """`params` with every field the caller did not set taken from its deployment's defaults."""
    return await _layered(params, dict)


async def _layered(params: M, below: Callable[[], dict[str, Any]]) -> M:
    """The fields the caller set, over the deployment's defaults, over `below()`."""
    fields = set(type(params).model_fields)
    given = params.model_fields_set & fields
    if given == fields:
        return params
    values = {k: v for k, v in below().items() if k in fields}
    values.update({k: v for k, v in (await deployment_defaults()).items() if k in fields})
    values.update(params.model_dump(include=given))
    return type(params)(**values)


async def deployment_defaults() -> dict[str, Any]:
    """The `params` default of the deployment this flow run belongs to ({} when none)."""
    context = FlowRunContext.get()
    run = context.flow_run if context else None
    if run is None or run.deployment_id is None:
        return {}
    async with get_client() as client:
        deployment = await client.read_deployment(run.deployment_id)
    value = (deployment.parameters or {}).get("params")
    return dict(value) if isinstance(value, dict) else {}
