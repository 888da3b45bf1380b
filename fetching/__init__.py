"""recite: fetching — polite, safe HTTP fetching of cited URLs (no Prefect, no DuckDB).

Use::

    async with make_client(config) as client:
        fetcher = Fetcher(config, client)
        results = await fetcher.fetch_many([FetchRequest(url) for url in urls])
"""

from fetching.client import make_client
from fetching.config import FetchConfig
from fetching.errors import FetchError
from fetching.fetcher import Fetcher
from fetching.guard import IPAddress, Resolver, SystemResolver, blocked_reason
from fetching.records import Attempt, FetchRequest, FetchResult, Outcome, Validators

__all__ = [
    "Attempt",
    "FetchConfig",
    "FetchError",
    "FetchRequest",
    "FetchResult",
    "Fetcher",
    "IPAddress",
    "Outcome",
    "Resolver",
    "SystemResolver",
    "Validators",
    "blocked_reason",
    "make_client",
]
