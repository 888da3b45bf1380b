"""One writer at a time: a Prefect global concurrency limit that every ingest run holds.

DuckDB lets one process write a file, and the working database refuses a second writer
(`storage.errors.DatabaseLocked`). That is the last line of defence; this is the first:
every `ingest` run, whichever deployment (`nightly`, `adhoc`) or `recite run` started it,
holds one slot of the global concurrency limit `recite-db-writer` (limit 1) while it
opens and writes the database. A second run waits for the slot, logging that it waits,
and then runs; nothing is lost. The limit is created on first use when it is missing.

The slot is a lease renewed in the background; a run killed without releasing it frees
the slot when the lease expires (`LEASE_SECONDS`).
"""

import contextlib
import logging
from collections.abc import AsyncIterator

from prefect import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.concurrency.asyncio import concurrency
from prefect.exceptions import MissingContextError, ObjectAlreadyExists, ObjectNotFound
from prefect.logging import get_logger, get_run_logger
from prefect.runtime import flow_run

WRITER_LIMIT = "recite-db-writer"
LEASE_SECONDS = 300.0


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The run's logger (its lines show on the run page), or a plain one outside runs."""
    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("recite.concurrency")


async def ensure_writer_limit(name: str = WRITER_LIMIT) -> int:
    """Create the global concurrency limit `name` with one slot if it is missing.

    Returns the limit's active slots (0 when it was just created). An existing limit is
    left as it is (an operator may have deactivated it on purpose) but a limit other
    than 1 is reported, since it would let two runs write at once.
    """
    async with get_client() as client:
        try:
            limit = await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):  # another run created it first
                await client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )
            return 0
    if limit.limit != 1 or not limit.active:
        _logger().warning(
            "global concurrency limit %r has limit %d (active: %s); recite expects 1 active slot "
            "so that one run writes at a time",
            name, limit.limit, limit.active,
        )
    return limit.active_slots


@contextlib.asynccontextmanager
async def writer_slot(db: str, name: str = WRITER_LIMIT) -> AsyncIterator[None]:
    """Hold the single writer slot for the duration of the block, waiting for it if needed."""
    busy = await ensure_writer_limit(name)
    if busy:
        _logger().warning(
            "another recite run holds the writer slot %r; waiting for it to finish before "
            "writing %s",
            name, db,
        )
    run_id = flow_run.get_id()
    holder = ConcurrencyLeaseHolder(type="flow_run", id=run_id) if run_id else None
    async with concurrency(
        name, occupy=1, lease_duration=LEASE_SECONDS, strict=True, holder=holder,
        raise_on_lease_renewal_failure=False,
    ):
        if busy:
            _logger().info("got the writer slot %r; writing %s", name, db)
        yield
