"""fetching/retry.py: which answers are retried and how long the fetcher waits, on
httpx.MockTransport with recorded sleeps (no real time)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from fetching import Outcome
from fetching.retry import Backoff, next_delay, parse_retry_after
from tests.fetching.mock_transport import Recorder, page, respond, sequence

pytestmark = pytest.mark.anyio


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
