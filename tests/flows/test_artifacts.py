"""flows/artifacts.py: the counts table's rows, and the fetch-progress artifact, which ends at
the run's true count when batches race."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from flows import artifacts
from flows.artifacts import FetchProgress, counts_table

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_slow_earlier_update_does_not_land_after_a_later_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    landed: list[float] = []

    async def update(artifact_id: uuid.UUID, progress: float, description: str) -> None:
        # The first update's request is the slow one, as when two batches finish together.
        await asyncio.sleep(0.05 if not landed and progress < 100 else 0)
        landed.append(progress)

    monkeypatch.setattr(artifacts, "aupdate_progress_artifact", update)
    progress = FetchProgress(3, uuid.uuid4())
    await asyncio.gather(progress.advance(2), progress.advance(1))
    assert progress.done == 3
    assert landed[-1] == 100.0
    assert landed == sorted(landed)


def test_counts_table_rows() -> None:
    assert counts_table([("fetch", "ok", 2)]) == [{"stage": "fetch", "reason": "ok", "count": 2}]
