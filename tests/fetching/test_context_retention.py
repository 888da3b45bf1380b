"""What the Fetcher keeps between batches must not keep a batch's context alive.

A Prefect task run's context holds its transaction, and the transaction the task's
result: a robots.txt load or pooled connection started in that context would keep a
whole batch of pages in memory for the rest of the run.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import uuid
import weakref

import pytest

from fetching import FetchRequest, Outcome
from tests.fetching.conftest import Harness
from tests.fetching.server import robots

pytestmark = pytest.mark.anyio

_BATCH: contextvars.ContextVar[object] = contextvars.ContextVar("batch")


class _BatchState:
    """Stands for what a task run's context holds (weak-referenceable)."""


async def test_a_batch_context_is_released_once_the_batch_is_done(harness: Harness) -> None:
    name = f"ctx-{uuid.uuid4().hex[:8]}.test"
    harness.server.route("/robots.txt", robots("User-agent: *\nDisallow: /private/\n"), host=name)
    urls = [harness.server.url(path, host=name) for path in ("/ok", "/ok?b")]

    async with harness.fetcher() as fetcher:

        async def batch(url: str) -> weakref.ref[_BatchState]:
            state = _BatchState()
            _BATCH.set(state)
            (result,) = await fetcher.fetch_many([FetchRequest(url)])
            assert result.outcome is Outcome.OK
            return weakref.ref(state)

        # Each batch in its own task, so in its own context, as Prefect runs a task.
        first = await asyncio.create_task(batch(urls[0]))
        second = await asyncio.create_task(batch(urls[1]))
        await asyncio.sleep(0)  # the callback that resumed us holds the last task until then
        gc.collect()
        assert first() is None
        assert second() is None

    # The robots.txt rules were kept across the batches all the same.
    paths = [e.path for e in harness.server.entries(host=name)]
    assert paths.count("/robots.txt") == 1
