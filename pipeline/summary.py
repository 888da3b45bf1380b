"""The run summary: counts by stage and reason, and table totals."""

from collections import Counter
from dataclasses import dataclass

from pipeline.steps import BatchReport
from storage.outcomes import RunStatus, Stage
from storage.run_report import GonePage, PageChange, SeedQuotes


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run did: counts by (stage, reason) and the database's totals after it."""

    run_id: str
    db: str
    counts: tuple[tuple[str, str, int], ...]
    totals: tuple[tuple[str, int], ...]
    # Wall seconds by stage (fetch, extract, store, dedup, publish, ...); stages overlap.
    timings: tuple[tuple[str, float], ...] = ()
    # Completed, or completed with errors when a dedup step set items aside.
    status: RunStatus = RunStatus.COMPLETED
    # Cited pages that changed in the run, and those that went gone (the first of each).
    changes: tuple[PageChange, ...] = ()
    gone: tuple[GonePage, ...] = ()
    # What went wrong after the run completed and published (the HTML report), as text.
    warnings: tuple[str, ...] = ()
    # Each seed's quotation checks by result, with its absent quotations.
    quotes: tuple[SeedQuotes, ...] = ()

    def count(self, stage: str, reason: str | None = None) -> int:
        """Items of a stage (with a given reason, or all of them)."""
        return sum(n for s, r, n in self.counts if s == stage and reason in (None, r))

    def total(self, table: str) -> int:
        """Rows of a table after the run."""
        return dict(self.totals).get(table, 0)

    def seconds(self, stage: str) -> float:
        """Wall seconds the run spent in a stage (0.0 if it had none)."""
        return dict(self.timings).get(stage, 0.0)


class Tally:
    """Accumulates batch reports into counts by (stage, reason)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[Stage, str]] = Counter()

    def add(self, report: BatchReport) -> None:
        """Add a batch's counts."""
        for stage, reason, n in report.counts:
            self.counts[stage, reason] += n

    def bump(self, stage: Stage, reason: str, n: int = 1) -> None:
        """Count `n` items of a stage with a reason."""
        if n:
            self.counts[stage, reason] += n

    def as_tuple(self) -> tuple[tuple[Stage, str, int], ...]:
        """The counts, sorted, as (stage, reason, count)."""
        return tuple((s, r, n) for (s, r), n in sorted(self.counts.items()))
