"""How a run cuts its work into batches (one task run each)."""

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def chunks(items: Sequence[T], size: int, first: int | None = None) -> Iterator[Sequence[T]]:
    """Batches of `size`, after a ramp `first`, 2 x `first`, ... when `first` is given.

    The ramp starts the extraction pool early: it idles until the first batch is fetched;
    a full first batch leaves it idle for the fetch of `size` pages (~1 s at 200), a small
    one for a fraction of that. Fetching runs ~3x faster than extraction, so each doubled
    batch is fetched while the previous one is extracted.
    """
    start, step = 0, max(1, min(size if first is None else first, size))
    while start < len(items):
        yield items[start : start + step]
        start += step
        step = min(size, step * 2)
