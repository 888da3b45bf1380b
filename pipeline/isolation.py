"""Failure isolation for the dedup steps: a bad item is set aside, the run goes on (issue 13).

A dedup or passage step that raises on some documents must not fail the run: a run that
fails publishes nothing, and if the same documents fail again every night, the published
database never changes again. Each unit of work is one transaction, so a failure leaves
nothing half-written; `isolate` then splits the batch in halves until the items that
fail on their own are found (log2(n) extra attempts per bad item), records them as
`StepFailure`s and does the rest. Their index stays unwritten, so the next run finds them
among the documents or passages still to index and tries them again.

A fatal DuckDB error (the database invalidated, out of disk) is not an item's fault:
it is raised, and the run fails as before.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import duckdb

from storage.outcomes import Step
from storage.records import StepFailure

T = TypeVar("T")
R = TypeVar("R")

# Errors worth raising: nothing later in the run could succeed after them.
_FATAL: tuple[type[BaseException], ...] = (
    duckdb.FatalException, duckdb.InternalException, duckdb.OutOfMemoryException,
    duckdb.IOException, duckdb.InterruptException, MemoryError, OSError,
)


@dataclass(slots=True)
class Failures:
    """The step failures of one run, in the order they happened.

    With `raise_errors`, nothing is set aside: the first error is raised (for callers
    outside a run, such as tests and benchmarks of one step).
    """

    items: list[StepFailure] = field(default_factory=list)
    raise_errors: bool = False

    def add(self, failure: StepFailure) -> None:
        """Record a failure."""
        self.items.append(failure)

    def ids(self, stage: Step) -> set[int]:
        """The items of `stage` that failed in this run (so the run does not try them again)."""
        return {f.item for f in self.items if f.stage == stage and f.item is not None}

    def __len__(self) -> int:
        return len(self.items)


def describe(exc: BaseException) -> str:
    """The error as stored: its type and message, cut to 500 characters."""
    return f"{type(exc).__name__}: {exc}"[:500]


def isolate(
    items: Sequence[T],
    work: Callable[[Sequence[T]], R],
    stage: Step,
    key: Callable[[T], int],
    failures: Failures,
) -> list[R]:
    """Run `work` on `items`, splitting on failure; return the results of what succeeded."""
    try:
        return [work(items)]
    except _FATAL:
        raise
    except Exception as exc:
        if failures.raise_errors:
            raise
        if len(items) == 1:
            failures.add(StepFailure(stage, key(items[0]), describe(exc)))
            return []
        middle = len(items) // 2
        return [
            *isolate(items[:middle], work, stage, key, failures),
            *isolate(items[middle:], work, stage, key, failures),
        ]


def guarded(work: Callable[[], R], stage: Step, failures: Failures) -> R | None:
    """Run a step that has no items to split (cluster update); on failure record it."""
    try:
        return work()
    except _FATAL:
        raise
    except Exception as exc:
        if failures.raise_errors:
            raise
        failures.add(StepFailure(stage, None, describe(exc)))
        return None

