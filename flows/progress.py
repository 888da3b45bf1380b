"""Progress of a run: a live bar on a terminal, a log line per batch everywhere."""

import logging
import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn


class RunProgress:
    """Counts pages fetched and extracted; drawn on stderr only when it is a terminal."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> None:
        self._logger = logger
        console = Console(stderr=True)
        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=not sys.stderr.isatty(),
        )
        self._tasks: dict[str, TaskID] = {}

    def start(self, stage: str, total: int) -> None:
        """Begin counting a stage of `total` items."""
        self._tasks[stage] = self._progress.add_task(stage, total=total)

    def advance(self, stage: str, n: int) -> None:
        """Count `n` more items of a stage done, and log the stage's progress."""
        task = self._tasks[stage]
        self._progress.advance(task, n)
        done = self._progress.tasks[task].completed
        total = self._progress.tasks[task].total
        self._logger.info("%s: %d/%d", stage, done, total or 0)

    def __enter__(self) -> "RunProgress":
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
