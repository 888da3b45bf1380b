"""Prefect artifacts of an ingest run, under stable keys, shown on the run page's Artifacts tab.

    recite-fetch-progress  progress of the fetch stage, updated after every batch
    recite-run-counts      table: counts by stage and outcome reason
    recite-run-report      markdown: new and changed documents, the most repeated
                           passages, duplicate clusters that gained a new or changed
                           document; a link to the HTML report when --report-dir is set

Each run creates its own version of each key, so the Artifacts page also shows their
history across runs. An artifact that cannot be written is logged and skipped: it never
fails a run. The report reads the run's working database through the flow's connection,
before the database is published.
"""

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)
from prefect.exceptions import MissingContextError
from prefect.logging import get_logger, get_run_logger

from storage.run_report import RunReport

COUNTS_KEY = "recite-run-counts"
REPORT_KEY = "recite-run-report"
PROGRESS_KEY = "recite-fetch-progress"



def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("recite.artifacts")


class FetchProgress:
    """The `recite-fetch-progress` artifact: percent of the run's URLs fetched so far."""

    def __init__(self, total: int, artifact_id: UUID | None) -> None:
        self.total = total
        self.done = 0
        self._id = artifact_id
        self._sent = 0
        self._lock = asyncio.Lock()

    @classmethod
    async def create(cls, total: int) -> "FetchProgress":
        """Create the artifact at 0% (100% when there is nothing to fetch)."""
        try:
            artifact_id = await acreate_progress_artifact(
                0.0 if total else 100.0, key=PROGRESS_KEY,
                description=f"0 of {total} URLs fetched.",
            )
        except Exception as exc:  # an artifact never fails a run
            _logger().warning("could not create the %s artifact: %r", PROGRESS_KEY, exc)
            artifact_id = None
        return cls(total, artifact_id)

    async def advance(self, n: int) -> None:
        """Count `n` more URLs fetched and update the artifact."""
        self.done += n
        if self._id is None or not self.total:
            return
        # Batches finish concurrently: one update at a time, each sending the count as it
        # is then, so an earlier, slower update never lands after a later one (the final
        # figure would stay below 100%).
        async with self._lock:
            done = self.done
            if done <= self._sent:
                return  # a later call's count went out already
            try:
                await aupdate_progress_artifact(
                    self._id, min(100.0, 100.0 * done / self.total),
                    description=f"{done} of {self.total} URLs fetched.",
                )
                self._sent = done
            except Exception as exc:
                _logger().warning("could not update the %s artifact: %r", PROGRESS_KEY, exc)


async def publish_report(
    report: RunReport,
    counts: Sequence[tuple[str, str, int]],
    totals: Mapping[str, int],
    report_url: str | None = None,
) -> None:
    """Create the `recite-run-counts` and `recite-run-report` artifacts of this run."""
    try:
        await acreate_table_artifact(
            counts_table(counts), key=COUNTS_KEY,
            description="Items by stage and outcome reason, this run.",
        )
    except Exception as exc:
        _logger().warning("could not create the %s artifact: %r", COUNTS_KEY, exc)
    try:
        markdown = report.markdown(counts, totals, COUNTS_KEY, report_url)
        await acreate_markdown_artifact(
            markdown, key=REPORT_KEY,
            description="New and changed documents, repeated passages, duplicate clusters.",
        )
    except Exception as exc:
        _logger().warning("could not create the %s artifact: %r", REPORT_KEY, exc)


def counts_table(counts: Iterable[tuple[str, str, int]]) -> list[dict[str, object]]:
    """The counts as table rows: stage, reason, count."""
    return [{"stage": s, "reason": r, "count": n} for s, r, n in counts]
