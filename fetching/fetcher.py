"""The Fetcher: one FetchResult per URL, with politeness, robots, guard, retries, limits.

One attempt = the request and the redirects it leads to. Each hop is checked
the same way: URL (scheme, credentials, port), address guard (resolve, refuse
non-public, pin), robots.txt, then one request under the host's politeness slot.
"""

import asyncio
import contextvars
import hashlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpx
import sniffio

from fetching.client import deadline, pinned, send_streamed, translated
from fetching.config import FetchConfig
from fetching.errors import (
    BadRedirectError,
    FetchError,
    ProtocolError,
    RedirectLoopError,
    RobotsDeniedError,
    TooManyRedirectsError,
)
from fetching.guard import IPAddress, Resolver, SystemResolver, resolve_checked
from fetching.page import read_page
from fetching.politeness import Clock, HostScheduler, Sleep
from fetching.records import Attempt, FetchRequest, FetchResult, Outcome, Validators
from fetching.retry import Backoff, is_retryable_status, next_delay, parse_retry_after
from fetching.robots import RobotsCache, agent_token
from fetching.robots_fetch import RobotsLoader
from fetching.target import REDIRECT_STATUSES, Target, check_url, redirect_location

logger = logging.getLogger(__name__)



@dataclass(slots=True)
class _State:
    """What one attempt found so far: the FetchResult it makes (attempts aside), and more.

    `found` is replaced as the attempt goes (FetchResult is frozen); the other fields only
    steer retries and fill the Attempt.
    """

    found: FetchResult
    retryable: bool = False
    retry_after: float | None = None
    raw_bytes: int = 0
    network_s: float = 0.0


class Fetcher:
    """Fetches URLs politely and safely; never raises for a URL.

    A Fetcher lives for one run and one event loop: its per-host schedule and
    robots.txt cache persist across `fetch_many` calls.
    """

    def __init__(
        self,
        config: FetchConfig,
        client: httpx.AsyncClient,
        *,
        resolver: Resolver | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._client = client
        self._resolver = resolver or SystemResolver()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._now = now
        self._token = agent_token(config.user_agent)
        self._backoff = Backoff(config.backoff_base, config.backoff_max)
        self._scheduler = HostScheduler(
            concurrency=config.concurrency,
            per_host_concurrency=config.per_host_concurrency,
            per_host_delay=config.per_host_delay,
            clock=clock,
            sleep=sleep,
        )
        self._robots = RobotsCache(
            RobotsLoader(config, client, self._scheduler, self._resolve, self._token)
        )
        # An asyncio task, and a socket's read callback, keep the context they were made
        # in. Robots.txt loads and pooled connections outlive the batch whose fetch
        # started them; made in a Prefect task run's context, they would keep its
        # transaction, and through it the batch's results, alive all run (2,500 pages'
        # bodies at 10,000 pages over 2,500 hosts). Fetches run in a copy of the context
        # the Fetcher was made in.
        self._context = contextvars.copy_context()
        # httpcore asks sniffio which event loop runs it several times per request (its
        # anyio locks and cancel scopes); unset, sniffio finds out from
        # asyncio.current_task, 2.3% of the fetching process's CPU (issue 20). The
        # Fetcher only runs on asyncio, so say so once, as sniffio lets a library do.
        self._context.run(sniffio.current_async_library_cvar.set, "asyncio")

    async def fetch_many(
        self,
        requests: Sequence[FetchRequest],
        on_result: Callable[[FetchResult], None] | None = None,
    ) -> list[FetchResult]:
        """Fetch all `requests` concurrently; results in input order, `on_result` as each ends.

        URLs never raise; an exception from `on_result` itself cancels the batch
        (asyncio.TaskGroup) and propagates, since it is a bug in the caller.
        """
        results: list[FetchResult | None] = [None] * len(requests)

        async def one(index: int, request: FetchRequest) -> None:
            result = await self.fetch(request)
            results[index] = result
            if on_result is not None:
                on_result(result)

        async with asyncio.TaskGroup() as group:
            for index, request in enumerate(requests):
                group.create_task(one(index, request), context=self.task_context())
        return [result for result in results if result is not None]

    def task_context(self) -> contextvars.Context:
        """A fresh copy of the context this Fetcher was made in, for a task that fetches.

        Helpers that fetch concurrently (e.g. `memento.find_mementos`) start their
        tasks in it, for the reason given in `__init__`.
        """
        return self._context.copy()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch one URL, following redirects and retrying; always returns a result."""
        try:
            return await self._fetch(request)
        except Exception as exc:  # the contract: a bug costs one URL, never the batch
            logger.exception("unexpected error fetching %s", request.url)
            error = f"internal error: {type(exc).__name__}: {exc}"
            attempt = Attempt(
                url=request.url,
                attempt=1,
                started_at=self._now(),
                outcome=Outcome.INTERNAL_ERROR,
                error=error,
            )
            return FetchResult(
                url=request.url, outcome=Outcome.INTERNAL_ERROR, attempts=(attempt,), error=error
            )

    async def _fetch(self, request: FetchRequest) -> FetchResult:
        """Attempts with backoff until one is final or attempts run out."""
        attempts: list[Attempt] = []
        number = 0
        while True:
            number += 1
            state = await self._attempt(request, number, attempts)
            if not state.retryable:
                return _result(state, attempts)
            if number >= self._config.max_attempts:
                if state.found.status_code == 429:
                    # Still rate-limited: the page is not gone, ask again next run.
                    state.found = replace(state.found, outcome=Outcome.RETRY_LATER)
                return _result(state, attempts)
            delay = next_delay(
                self._backoff,
                number,
                state.retry_after,
                self._config.retry_after_cap,
                self._rng,
            )
            if delay is None:
                error = (
                    f"{state.found.error}; Retry-After {state.retry_after:g}s exceeds the "
                    f"{self._config.retry_after_cap:g}s cap"
                )
                state.found = replace(state.found, outcome=Outcome.RETRY_LATER, error=error)
                return _result(state, attempts)
            await self._sleep(delay)

    async def _attempt(
        self, request: FetchRequest, number: int, attempts: list[Attempt]
    ) -> _State:
        """One attempt (with its redirects), recorded in `attempts`."""
        started_at = self._now()
        state = _State(FetchResult(url=request.url, outcome=Outcome.INTERNAL_ERROR, attempts=()))
        try:
            await self._follow(request, state)
        except FetchError as exc:
            state.found = replace(
                state.found, outcome=exc.outcome, error=str(exc) or type(exc).__name__
            )
            state.retryable = exc.retryable
        found = state.found
        attempts.append(
            Attempt(
                url=request.url,
                attempt=number,
                started_at=started_at,
                outcome=found.outcome,
                status_code=found.status_code,
                final_url=found.final_url,
                redirect_chain=found.redirect_chain,
                error=found.error,
                bytes=state.raw_bytes,
                elapsed_ms=round(state.network_s * 1000, 3),
            )
        )
        return state

    async def _follow(self, request: FetchRequest, state: _State) -> None:
        """Request the URL and each redirect target, checking every hop."""
        url: str = request.url
        seen: set[str] = set()
        for _hop in range(self._config.max_redirects + 1):
            target = check_url(url, self._config.allowed_ports)
            key = str(target.url)
            if key in seen:
                raise RedirectLoopError(f"redirect loop: {key} is already in the chain")
            seen.add(key)
            # This hop's answer, not the last one's.
            state.found = replace(state.found, final_url=key, status_code=None, headers=())
            addresses = await self._resolve(target)
            await self._check_robots(target)
            location = await self._request(target, addresses, request, state)
            if location is None:
                return
            state.found = replace(
                state.found, redirect_chain=(*state.found.redirect_chain, key)
            )
            if not request.follow_redirects:
                # The caller wants the redirect itself (a Memento TimeGate's 302 names
                # the memento in Location, RFC 7089 §4.2.1); not a failure to retry.
                state.found = replace(
                    state.found,
                    outcome=Outcome.HTTP_3XX,
                    error=f"HTTP {state.found.status_code} to {location} not followed "
                    "(follow_redirects=False)",
                )
                return
            url = location
        raise TooManyRedirectsError(f"more than {self._config.max_redirects} redirects")

    async def _resolve(self, target: Target) -> tuple[IPAddress, ...]:
        """Checked addresses of the target's host (guard; re-run on every hop)."""
        return await resolve_checked(
            target.host,
            target.port,
            self._resolver,
            allow_private=self._config.allow_private_addresses,
            timeout=self._config.connect_timeout,
        )

    async def _check_robots(self, target: Target) -> None:
        """Refuse the target if its robots.txt disallows it for recite."""
        if not self._config.respect_robots:
            return
        rules = await self._robots.rules(target.origin)
        if rules.failure is not None:
            # The host did not answer for robots.txt; report the network failure,
            # without retries: the cached rules will not change during this run.
            raise rules.failure(
                f"{rules.note}; {target.origin} is off-limits for this run "
                "(RFC 9309 §2.3.1.4)",
                retryable=False,
            )
        path = target.url.raw_path.decode("ascii")
        if not rules.allowed(path):
            detail = f" ({rules.note})" if rules.note else ""
            raise RobotsDeniedError(
                f"robots.txt of {target.origin} disallows {path} for {self._token}{detail}"
            )

    async def _request(
        self,
        target: Target,
        addresses: tuple[IPAddress, ...],
        fetch: FetchRequest,
        state: _State,
    ) -> str | None:
        """One GET under the host's politeness slot; the redirect target or None."""
        headers = httpx.Headers(_conditional_headers(fetch.validators))
        for name, value in fetch.headers:
            headers[name] = value  # the caller's header wins over a same-named default
        request = self._client.build_request("GET", target.url, headers=headers)
        async with self._scheduler.slot(target.host), self._budget(state):
            with pinned(target.host, target.port, addresses):
                with translated():
                    response = await send_streamed(self._client, request)
                try:
                    return await self._handle(response, target, fetch.validators, state)
                finally:
                    await response.aclose()

    @asynccontextmanager
    async def _budget(self, state: _State) -> AsyncIterator[None]:
        """Time the block against the attempt's total cap (politeness waits excluded)."""
        loop = asyncio.get_running_loop()  # the clock asyncio.timeout uses
        start = loop.time()
        try:
            async with deadline(self._config.total_timeout - state.network_s):
                yield
        finally:
            state.network_s += loop.time() - start

    async def _handle(
        self,
        response: httpx.Response,
        target: Target,
        validators: Validators,
        state: _State,
    ) -> str | None:
        """Interpret the status; read the body of a 2xx. Returns a redirect target or None."""
        status = response.status_code
        state.found = replace(
            state.found, status_code=status, headers=tuple(response.headers.multi_items())
        )
        if status in REDIRECT_STATUSES:
            return redirect_location(response, target.url)
        if status == 304:
            self._not_modified(response, validators, state)
            return None
        if 300 <= status < 400:
            raise BadRedirectError(f"HTTP {status} is not a redirect recite follows")
        if 400 <= status < 600:
            self._failed_status(response, state)
            return None
        if not 200 <= status < 300:
            raise ProtocolError(f"unexpected status {status}")
        await self._read_page(response, state)
        body = state.found.body or b""
        digest = hashlib.sha256(body).hexdigest()
        state.found = replace(
            state.found, validators=replace(_validators(response, Validators()), body_sha256=digest)
        )
        if digest == validators.body_sha256:
            # The very body stored last time: as good as a 304 (no ETag needed).
            state.found = replace(
                state.found, outcome=Outcome.NOT_MODIFIED, body=None, text=None
            )
        return None

    def _not_modified(
        self, response: httpx.Response, validators: Validators, state: _State
    ) -> None:
        """A 304: fine if we asked conditionally (RFC 9110 §15.4.5)."""
        if validators.etag is None and validators.last_modified is None:
            raise BadRedirectError("304 Not Modified to an unconditional request")
        state.found = replace(
            state.found, outcome=Outcome.NOT_MODIFIED,
            validators=_validators(response, validators),
        )

    def _failed_status(self, response: httpx.Response, state: _State) -> None:
        """Record a 4xx/5xx, retryable or not, with any Retry-After."""
        status = response.status_code
        state.found = replace(
            state.found,
            outcome=Outcome.HTTP_4XX if status < 500 else Outcome.HTTP_5XX,
            error=f"HTTP {status} {response.reason_phrase}".strip(),
        )
        if is_retryable_status(status):
            state.retryable = True
            state.retry_after = parse_retry_after(response.headers.get("retry-after"))

    async def _read_page(self, response: httpx.Response, state: _State) -> None:
        """Read and decode a 2xx page into `state`."""
        page = await read_page(response, self._config.max_bytes)
        state.raw_bytes = page.raw_bytes
        state.found = replace(
            state.found, outcome=Outcome.OK, body=page.body, content_type=page.content_type,
            charset=page.charset, text=page.text,
        )



def _result(state: _State, attempts: list[Attempt]) -> FetchResult:
    """The FetchResult for the last attempt's state."""
    return replace(state.found, attempts=tuple(attempts))


def _conditional_headers(validators: Validators) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from stored validators (RFC 9110 §13.1)."""
    headers: dict[str, str] = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _validators(response: httpx.Response, fallback: Validators) -> Validators:
    """ETag/Last-Modified of a response, keeping `fallback` for those it lacks."""
    return Validators(
        etag=response.headers.get("etag") or fallback.etag,
        last_modified=response.headers.get("last-modified") or fallback.last_modified,
        body_sha256=fallback.body_sha256,
    )
