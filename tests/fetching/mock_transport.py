"""A Fetcher on httpx.MockTransport, with recorded requests and sleeps (no real time)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable

import httpx

from fetching import FetchConfig, Fetcher, FetchRequest, FetchResult, Validators
from tests.fetching.conftest import FakeResolver

PAGE = b"<!DOCTYPE html><html><body><p>page</p></body></html>"
CONFIG = FetchConfig(
    per_host_delay=0.0, backoff_base=0.5, backoff_max=4.0, retry_after_cap=120.0,
    allowed_ports=None,
)
Handler = Callable[[httpx.Request], httpx.Response]


class Body(httpx.AsyncByteStream):
    """A streamed body, as a real transport returns (bytes content would be pre-read)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


def respond(status: int, data: bytes = b"", **headers: str) -> httpx.Response:
    """A response with a streamed body; header names use underscores for dashes."""
    fixed = {name.replace("_", "-"): value for name, value in headers.items()}
    return httpx.Response(status, headers=fixed, stream=Body(data))


def page(**headers: str) -> httpx.Response:
    """A 200 HTML response."""
    return respond(200, PAGE, Content_Type="text/html", **headers)


class Recorder:
    """Runs one Fetcher on a MockTransport; records requests and sleeps."""

    def __init__(self, handler: Handler, **overrides: object) -> None:
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.handler = handler
        self.config = FetchConfig(**{**_fields(CONFIG), **overrides})  # type: ignore[arg-type]

    def _transport(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return respond(404)
        self.requests.append(request)
        return self.handler(request)

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def fetch(
        self, url: str | FetchRequest, validators: Validators | None = None
    ) -> FetchResult:
        request = url if isinstance(url, FetchRequest) else FetchRequest(
            url, validators or Validators()
        )
        transport = httpx.MockTransport(self._transport)
        async with httpx.AsyncClient(transport=transport) as client:
            fetcher = Fetcher(
                self.config, client, resolver=FakeResolver(), sleep=self._sleep,
                rng=random.Random(7),
            )
            return await fetcher.fetch(request)


def _fields(config: FetchConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


def sequence(*responses: httpx.Response | Exception) -> Handler:
    """A handler answering with `responses` in order (the last one repeats)."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        # A fresh copy each time: a streamed body can be read only once.
        assert isinstance(item.stream, Body)
        return respond(item.status_code, item.stream.data, **dict(item.headers))

    return handler
