"""Fetching robots.txt once per origin, through the same guard, pinning, politeness
and size cap as pages; RFC 9309 §2.3.1 decides what each answer means."""

from collections.abc import Awaitable, Callable

import httpx

from fetching.body import content_encodings, read_decoded
from fetching.client import deadline, pinned, send_streamed, translated
from fetching.config import FetchConfig
from fetching.errors import FetchError, RefusedError
from fetching.guard import IPAddress
from fetching.politeness import HostScheduler
from fetching.robots import (
    ALLOW_ALL,
    CRAWL_DELAY_CAP,
    MAX_ROBOTS_BYTES,
    RobotsRules,
    parse_robots,
    unreachable,
)
from fetching.target import REDIRECT_STATUSES, Target, check_url, redirect_location

Resolve = Callable[[Target], Awaitable[tuple[IPAddress, ...]]]
_MAX_REDIRECTS = 5  # RFC 9309 §2.3.1.2: follow at least five


class RobotsLoader:
    """Loads the robots.txt rules of one origin for recite's product token."""

    def __init__(
        self,
        config: FetchConfig,
        client: httpx.AsyncClient,
        scheduler: HostScheduler,
        resolve: Resolve,
        token: str,
    ) -> None:
        self._config = config
        self._client = client
        self._scheduler = scheduler
        self._resolve = resolve
        self._token = token

    async def __call__(self, origin: str) -> RobotsRules:
        """Fetch and parse robots.txt of `origin`, following up to five redirects."""
        url = f"{origin}/robots.txt"
        for hop in range(_MAX_REDIRECTS + 1):
            try:
                target = check_url(url, self._config.allowed_ports)
                outcome = await self._request(target, await self._resolve(target))
            except RefusedError as exc:
                if hop == 0:
                    # The origin itself is refused (e.g. its DNS now answers a private
                    # address): the whole host is off-limits for this run.
                    return unreachable(str(exc), type(exc))
                # A redirect to a place we may not go: robots.txt is "unavailable",
                # like a 4xx (RFC 9309 §2.3.1.3); each page still passes the guard.
                return RobotsRules(note=f"robots.txt redirect refused: {exc}")
            except FetchError as exc:
                return unreachable(str(exc) or type(exc).__name__, type(exc))
            if isinstance(outcome, RobotsRules):
                return self._apply_crawl_delay(target, outcome)
            url = outcome
        # RFC 9309 §2.3.1.2: past five redirects the crawler MAY treat it as unavailable.
        return RobotsRules(note="robots.txt: too many redirects")

    async def _request(self, target: Target, addresses: tuple[IPAddress, ...]) -> RobotsRules | str:
        """One robots.txt request: its rules, or the redirect target to follow."""
        request = self._client.build_request("GET", target.url)
        async with self._scheduler.slot(target.host), deadline(self._config.total_timeout):
            with pinned(target.host, target.port, addresses):
                with translated():
                    response = await send_streamed(self._client, request)
                try:
                    return await self._interpret(response, target)
                finally:
                    await response.aclose()

    async def _interpret(self, response: httpx.Response, target: Target) -> RobotsRules | str:
        """Rules from a robots.txt response (RFC 9309 §2.3.1), or a redirect target."""
        status = response.status_code
        if status in REDIRECT_STATUSES:
            return redirect_location(response, target.url)
        if 200 <= status < 300:
            with translated():
                body, _ = await read_decoded(
                    response.aiter_raw(),
                    content_encodings(response.headers.get("content-encoding")),
                    MAX_ROBOTS_BYTES,
                    truncate=True,  # parse the first 500 KiB, as RFC 9309 §2.5 allows
                )
            return parse_robots(body.decode("utf-8", errors="replace"), self._token)
        if status == 429 or status >= 500:
            # RFC 9309 §2.3.1.4 reads 5xx as "unreachable"; a 429 is the server
            # asking us to back off, not saying there are no rules.
            return unreachable(f"HTTP {status}")
        return ALLOW_ALL  # 4xx (and odd 1xx/3xx): "unavailable", crawl freely (§2.3.1.3)

    def _apply_crawl_delay(self, target: Target, rules: RobotsRules) -> RobotsRules:
        """Raise the host's delay to the robots.txt Crawl-delay (capped)."""
        if rules.crawl_delay:
            self._scheduler.raise_delay(target.host, min(rules.crawl_delay, CRAWL_DELAY_CAP))
        return rules
