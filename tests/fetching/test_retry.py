"""Retry and redirect logic on httpx.MockTransport, with recorded sleeps (no real time)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from fetching import FetchConfig, Fetcher, FetchRequest, FetchResult, Outcome, Validators
from fetching.retry import Backoff, next_delay, parse_retry_after
from tests.fetching.conftest import FakeResolver

pytestmark = pytest.mark.anyio

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

    async def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        transport = httpx.MockTransport(self._transport)
        async with httpx.AsyncClient(transport=transport) as client:
            fetcher = Fetcher(
                self.config, client, resolver=FakeResolver(), sleep=self._sleep,
                rng=random.Random(7),
            )
            return await fetcher.fetch(FetchRequest(url, validators or Validators()))


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


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504, 520, 524, 527, 530])
async def test_retryable_statuses_are_retried(status: int) -> None:
    rec = Recorder(sequence(respond(status), page()))
    result = await rec.fetch("http://a.test/")
    assert result.outcome is Outcome.OK
    assert [a.status_code for a in result.attempts] == [status, 200]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451, 501, 505])
async def test_other_errors_are_not_retried(status: int) -> None:
    rec = Recorder(sequence(respond(status), page()))
    result = await rec.fetch("http://a.test/")
    assert result.outcome is (Outcome.HTTP_4XX if status < 500 else Outcome.HTTP_5XX)
    assert len(result.attempts) == 1 and rec.sleeps == []


async def test_backoff_is_full_jitter_below_the_exponential_ceiling() -> None:
    rec = Recorder(sequence(respond(500)), max_attempts=5)
    result = await rec.fetch("http://a.test/")
    assert result.outcome is Outcome.HTTP_5XX
    assert len(result.attempts) == 5
    assert len(rec.sleeps) == 4
    for attempt, slept in enumerate(rec.sleeps, start=1):
        assert 0 <= slept <= min(4.0, 0.5 * 2 ** (attempt - 1))


async def test_retry_after_seconds_is_waited_exactly() -> None:
    rec = Recorder(sequence(respond(503, Retry_After="7"), page()))
    result = await rec.fetch("http://a.test/")
    assert result.outcome is Outcome.OK
    assert rec.sleeps == [7.0]


async def test_retry_after_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    rec = Recorder(sequence(respond(429, Retry_After=when), page()))
    result = await rec.fetch("http://a.test/")
    assert result.outcome is Outcome.OK
    assert 27 <= rec.sleeps[0] <= 30


async def test_retry_after_over_cap_is_retry_later_without_waiting() -> None:
    rec = Recorder(sequence(respond(503, Retry_After="121")))
    result = await rec.fetch("http://a.test/")
    assert result.outcome is Outcome.RETRY_LATER
    assert rec.sleeps == [] and len(result.attempts) == 1


async def test_network_errors_are_retried_protocol_errors_not() -> None:
    rec = Recorder(sequence(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), page()))
    result = await rec.fetch("http://a.test/")
    assert result.outcome is Outcome.OK
    assert [a.outcome for a in result.attempts] == [
        Outcome.CONNECT_ERROR, Outcome.TIMEOUT, Outcome.OK,
    ]
    rec = Recorder(sequence(httpx.RemoteProtocolError("bad status line"), page()))
    result = await rec.fetch("http://a.test/")
    assert result.outcome is Outcome.PROTOCOL_ERROR
    assert len(result.attempts) == 1


async def test_httpx_errors_are_translated_with_their_text() -> None:
    rec = Recorder(sequence(httpx.ReadError("connection reset by peer")), max_attempts=1)
    result = await rec.fetch("http://a.test/")
    assert result.outcome is Outcome.CONNECT_ERROR
    assert result.error is not None and "connection reset by peer" in result.error


def redirects(table: dict[str, tuple[int, str]]) -> Handler:
    """Redirect per path from `table`; any other path is a page."""

    def handler(request: httpx.Request) -> httpx.Response:
        hop = table.get(request.url.path)
        if hop is None:
            return page()
        return respond(hop[0], Location=hop[1])

    return handler


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_each_redirect_status_is_followed(code: int) -> None:
    rec = Recorder(redirects({"/old": (code, "/new")}))
    result = await rec.fetch("http://a.test/old")
    assert result.outcome is Outcome.OK
    assert result.final_url == "http://a.test/new"
    assert result.redirect_chain == ("http://a.test/old",)


async def test_relative_and_cross_host_locations() -> None:
    rec = Recorder(redirects({"/a/b": (302, "../c?x=1#frag"), "/c": (301, "https://b.test/d")}))
    result = await rec.fetch("http://a.test/a/b")
    assert result.outcome is Outcome.OK
    assert result.redirect_chain == ("http://a.test/a/b", "http://a.test/c?x=1")
    assert result.final_url == "https://b.test/d"
    assert str(rec.requests[-1].url) == "https://b.test/d"


async def test_max_redirects_boundary() -> None:
    table = {f"/{n}": (302, f"/{n - 1}") for n in range(1, 10)}
    ok = await Recorder(redirects(table), max_redirects=3).fetch("http://a.test/3")
    assert ok.outcome is Outcome.OK and len(ok.redirect_chain) == 3
    over = await Recorder(redirects(table), max_redirects=3).fetch("http://a.test/4")
    assert over.outcome is Outcome.TOO_MANY_REDIRECTS


async def test_self_redirect_is_a_loop() -> None:
    rec = Recorder(redirects({"/me": (302, "http://a.test/me#again")}))
    result = await rec.fetch("http://a.test/me")
    assert result.outcome is Outcome.REDIRECT_LOOP
    assert len(rec.requests) == 1


async def test_retry_restarts_the_chain_and_every_attempt_is_recorded() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/start":
            return respond(302, Location="/end")
        calls["n"] += 1
        return respond(502) if calls["n"] == 1 else page()

    result = await Recorder(handler).fetch("http://a.test/start")
    assert result.outcome is Outcome.OK
    assert [(a.attempt, a.status_code, a.redirect_chain) for a in result.attempts] == [
        (1, 502, ("http://a.test/start",)),
        (2, 200, ("http://a.test/start",)),
    ]


async def test_conditional_headers_are_sent_on_every_hop() -> None:
    rec = Recorder(redirects({"/old": (301, "/new")}))
    await rec.fetch("http://a.test/old", Validators(etag='"e1"', last_modified="Tue, 1 Jan 2030"))
    for request in rec.requests:
        assert request.headers["if-none-match"] == '"e1"'
        assert request.headers["if-modified-since"] == "Tue, 1 Jan 2030"


async def test_unconditional_request_sends_no_validators() -> None:
    rec = Recorder(sequence(page(ETag='"x"', **{"Last-Modified": "Wed, 2 Jan 2030"})))
    result = await rec.fetch("http://a.test/")
    assert "if-none-match" not in rec.requests[0].headers
    assert result.validators == Validators('"x"', "Wed, 2 Jan 2030")


async def test_304_to_an_unconditional_request_is_http_3xx() -> None:
    result = await Recorder(sequence(respond(304))).fetch("http://a.test/")
    assert result.outcome is Outcome.HTTP_3XX


async def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    response = respond(200, b"<p>x</p>", Content_Type="text/html", Content_Length="999999999")
    result = await Recorder(sequence(response)).fetch("http://a.test/")
    assert result.outcome is Outcome.TOO_LARGE
    assert result.error is not None and "Content-Length" in result.error


async def test_unknown_content_encoding_is_unsupported() -> None:
    response = respond(200, b"\x00\x01", Content_Type="text/html", Content_Encoding="br")
    result = await Recorder(sequence(response)).fetch("http://a.test/")
    assert result.outcome is Outcome.UNSUPPORTED_TYPE


async def test_xhtml_is_accepted() -> None:
    response = respond(200, PAGE, Content_Type="application/xhtml+xml; charset=UTF-8")
    result = await Recorder(sequence(response)).fetch("http://a.test/")
    assert result.outcome is Outcome.OK
    assert result.content_type == "application/xhtml+xml"


def test_parse_retry_after_forms() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 0 ", now) == 0.0
    # delay-seconds is ASCII digits (RFC 9110 §10.2.3): others are ignored, never raised on.
    assert parse_retry_after("²", now) is None
    assert parse_retry_after("١٢", now) is None
    assert parse_retry_after("Tue, 01 Jan 2030 00:01:00 GMT", now) == 60.0
    assert parse_retry_after("Mon, 31 Dec 2029 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after(None, now) is None


def test_next_delay() -> None:
    backoff = Backoff(base=1.0, cap=10.0)
    rng = random.Random(1)
    assert next_delay(backoff, 1, 5.0, 120.0, rng) == 5.0
    assert next_delay(backoff, 1, 500.0, 120.0, rng) is None
    assert all(0 <= (next_delay(backoff, 8, None, 120.0, rng) or 0) <= 10 for _ in range(100))
