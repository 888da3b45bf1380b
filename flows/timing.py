"""Wall time a run spends in each stage, for the run summary and the throughput benchmark."""

import contextlib
import time
from collections.abc import Iterator


class StageClock:
    """Accumulates seconds by stage; overlapping stages each count their own wall time."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        """Count `seconds` more spent in `stage`."""
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Count the block's wall time to `stage`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)

    def as_tuple(self) -> tuple[tuple[str, float], ...]:
        """(stage, seconds), rounded to milliseconds, in the order stages were first seen."""
        return tuple((stage, round(s, 3)) for stage, s in self.seconds.items())
