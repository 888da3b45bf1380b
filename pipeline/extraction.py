"""A pool of processes that extract pages, created by the flow and passed to its tasks."""

import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from extractors.content import Extraction, ExtractReason, Html, extract_page

# Below this many pages a batch is extracted in-process: starting workers costs more.
_MIN_PARALLEL = 8
# Pages sent to a worker at once: a page takes ~25 ms to extract, its round trip ~0.1 ms.
_MAX_CHUNK = 4


class ExtractionPool:
    """Extracts batches of pages across processes (CPU-bound: one per core by default)."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def extract(self, pages: Sequence[tuple[Html, str]]) -> list[Extraction]:
        """Extract (html, url) pairs, in order; a crashed worker fails only its batch's pages."""
        if self.workers == 1 or len(pages) < _MIN_PARALLEL:
            return [extract_page(html, url) for html, url in pages]
        htmls = [html for html, _ in pages]
        urls = [url for _, url in pages]
        # Small chunks: a worker left with a long last chunk idles the others at the end.
        chunk = max(1, min(_MAX_CHUNK, len(pages) // (self.workers * 4)))
        try:
            return list(self._executor().map(extract_page, htmls, urls, chunksize=chunk))
        except BrokenProcessPool as exc:
            self.close()
            reason = f"{ExtractReason.EXTRACT_ERROR}: worker process died ({exc})"
            return [Extraction(None, reason) for _ in pages]

    def warm(self, pages: int) -> None:
        """Start the workers now if `pages` will need them, without waiting: they import
        trafilatura (about a second) while the run fetches its first batch."""
        if self.workers > 1 and pages >= _MIN_PARALLEL:
            executor = self._executor()
            for _ in range(self.workers):
                executor.submit(_ready)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the flow process runs threads (Prefect, httpx), and forking a
            # threaded process can deadlock the child.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_exit_with, initargs=(os.getpid(),)
            )
        return self._pool

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "ExtractionPool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _ready() -> None:
    """Nothing: importing this module in a worker (extractors.content, trafilatura) is the work."""


def _exit_with(parent: int) -> None:
    """In a worker: exit when the flow process is gone (killed), instead of lingering.

    Each worker holds both ends of the task queue's pipe, so a killed parent never
    closes it and idle workers would wait on it forever, with the run's memory.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="recite-parent-watch", daemon=True).start()
