"""Resources a run opens and passes down; tests replace these factories with their own."""

import contextlib
from collections.abc import AsyncIterator

from fetching import Fetcher, make_client
from fetching.config import FetchConfig


@contextlib.asynccontextmanager
async def open_fetcher(config: FetchConfig) -> AsyncIterator[Fetcher]:
    """An HTTP client and the Fetcher using it, for one run."""
    async with make_client(config) as client:
        yield Fetcher(config, client)
