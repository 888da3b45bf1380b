"""Wall time a run spends in each stage, for the run summary and the throughput benchmark."""

import contextlib
import time
from collections.abc import Iterator


class StageClock:
    """Wall time by stage: the union of the stage's intervals, so overlapping work counts once."""

    def __init__(self) -> None:
        self._spans: dict[str, list[tuple[float, float]]] = {}

    def span(self, stage: str, start: float, end: float) -> None:
        """Count the interval [start, end] (time.perf_counter values) to `stage`."""
        self._spans.setdefault(stage, []).append((start, end))

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Count the block's wall time to `stage`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.span(stage, start, time.perf_counter())

    def seconds(self, stage: str) -> float:
        """Wall seconds covered by the stage's intervals."""
        total, reach = 0.0, float("-inf")
        for start, end in sorted(self._spans.get(stage, [])):
            if end > reach:
                total += end - max(start, reach)
                reach = end
        return total

    def as_tuple(self) -> tuple[tuple[str, float], ...]:
        """(stage, seconds), rounded to milliseconds, in the order stages were first seen."""
        return tuple((stage, round(self.seconds(stage), 3)) for stage in self._spans)
