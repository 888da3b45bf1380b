"""fetching/memento.py: datetime negotiation with a local RFC 7089 archive on 127.0.0.1,
through the real Fetcher (guard, robots, limits), and the URI/date helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from fetching import Fetcher, FetchRequest, Outcome, make_client
from fetching.memento import (
    MementoOutcome,
    find_memento,
    find_mementos,
    http_date,
    original_bytes_uri,
    timegate_url,
)
from tests.fetching.conftest import TEST_CONFIG, Harness
from tests.fetching.server import TestServer
from tests.fetching.test_fetcher import closed_port
from tests.fetching.timegate import (
    BANNER,
    BIG,
    BROKEN_MEMENTO,
    ELSEWHERE,
    GONE_MEMENTO,
    MOVED,
    NO_DATETIME,
    NO_LOCATION,
    NOT_ARCHIVED,
    STORY,
    capture_datetime,
    make_archive,
)

anyio = pytest.mark.anyio
JUNE_2013 = datetime(2013, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def archive() -> Iterator[TestServer]:
    """The local web archive, shared by this module."""
    srv = make_archive()
    yield srv
    srv.stop()


def base(archive: TestServer, prefix: str = "/web/") -> str:
    """The TimeGate base on 127.0.0.1."""
    return f"http://127.0.0.1:{archive.port}{prefix}"


@asynccontextmanager
async def local_fetcher(**overrides: Any) -> AsyncIterator[Fetcher]:
    """A Fetcher allowed to reach 127.0.0.1 (the guard's address check lifted)."""
    config = replace(TEST_CONFIG, allow_private_addresses=True, **overrides)
    async with make_client(config) as client:
        yield Fetcher(config, client)


# --- helpers ---------------------------------------------------------------------------


def test_timegate_url_appends_the_original() -> None:
    assert (
        timegate_url("https://web.archive.org/web/", "http://example.com/a?b=1")
        == "https://web.archive.org/web/http://example.com/a?b=1"
    )


def test_timegate_url_refuses_an_empty_base() -> None:
    with pytest.raises(ValueError):
        timegate_url("", "http://example.com/")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "https://web.archive.org/web/20130615120000/http://example.com/a?b=1",
            "https://web.archive.org/web/20130615120000id_/http://example.com/a?b=1",
        ),
        (  # already the original bytes
            "https://web.archive.org/web/20130615120000id_/http://example.com/",
            "https://web.archive.org/web/20130615120000id_/http://example.com/",
        ),
        (  # another form is left alone
            "https://web.archive.org/web/20130615120000im_/http://example.com/x.png",
            "https://web.archive.org/web/20130615120000im_/http://example.com/x.png",
        ),
        (  # not a 14-digit timestamp
            "https://web.archive.org/web/2013/http://example.com/",
            "https://web.archive.org/web/2013/http://example.com/",
        ),
        (  # only the archive's own timestamp, not one inside the original URL
            "http://127.0.0.1:8000/web/20130615120000/http://example.com/web/20200101000000/x",
            "http://127.0.0.1:8000/web/20130615120000id_/http://example.com/web/20200101000000/x",
        ),
        (  # not a Wayback URI
            "https://archive.example/memento/20130615120000/http://example.com/",
            "https://archive.example/memento/20130615120000/http://example.com/",
        ),
    ],
)
def test_original_bytes_uri(uri: str, expected: str) -> None:
    assert original_bytes_uri(uri) == expected


def test_http_date_is_imf_fixdate_in_gmt() -> None:
    cest = timezone(timedelta(hours=2))
    assert http_date(datetime(2013, 6, 15, 14, 0, 0, 999, tzinfo=cest)) == (
        "Sat, 15 Jun 2013 12:00:00 GMT"
    )
    assert http_date(datetime(2001, 1, 2, 3, 4, 5)) == "Tue, 02 Jan 2001 03:04:05 GMT"


# --- negotiation -----------------------------------------------------------------------


@anyio
@pytest.mark.parametrize(
    ("when", "timestamp"),
    [
        (datetime(2009, 1, 1, tzinfo=UTC), "20100101000000"),
        (datetime(2013, 1, 1, tzinfo=UTC), "20130615120000"),
        (datetime(2019, 12, 31, tzinfo=UTC), "20200301080000"),
    ],
)
async def test_nearest_capture_is_chosen_by_accept_datetime(
    archive: TestServer, when: datetime, timestamp: str
) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive), STORY, when)
    assert result.outcome == MementoOutcome.OK
    assert archive.entries(prefix=f"/web/{STORY}")[-1].headers["accept-datetime"] == (
        http_date(when)
    )
    assert result.memento_uri == f"{base(archive)}{timestamp}/{STORY}"
    assert result.memento_datetime == capture_datetime(timestamp)


@anyio
async def test_memento_ok_is_the_original_bytes(archive: TestServer) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive), STORY, JUNE_2013)
    assert result.outcome == MementoOutcome.OK
    assert result.error is None
    assert result.url == STORY
    assert result.timegate == base(archive)
    assert result.accept_datetime == JUNE_2013
    assert result.fetched_uri == f"{base(archive)}20130615120000id_/{STORY}"
    assert result.memento_datetime == datetime(2013, 6, 15, 12, tzinfo=UTC)
    assert result.fetch is not None and result.fetch.ok
    assert result.fetch.text is not None and "story in 2013" in result.fetch.text
    assert BANNER.decode() not in result.fetch.text
    gate = result.timegate_fetch
    assert gate is not None and gate.outcome is Outcome.HTTP_3XX
    assert dict(gate.headers)["vary"] == "accept-datetime"
    assert 'rel="timemap"' in dict(gate.headers)["link"]


@anyio
async def test_the_banner_form_carries_the_banner(archive: TestServer) -> None:
    # The archive's banner form differs, so the test above proves the id_ form was used.
    async with local_fetcher() as fetcher:
        page = await fetcher.fetch(FetchRequest(f"{base(archive)}20130615120000/{STORY}"))
    assert page.text is not None and BANNER.decode() in page.text


@anyio
async def test_naive_datetime_is_taken_as_utc(archive: TestServer) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive), STORY, datetime(2013, 6, 1))
    assert result.accept_datetime == JUNE_2013
    assert result.outcome == MementoOutcome.OK


@anyio
async def test_missing_memento_datetime_falls_back_to_the_uri(archive: TestServer) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive), NO_DATETIME, JUNE_2013)
    assert result.outcome == MementoOutcome.OK
    assert result.memento_datetime == datetime(2013, 6, 15, 12, tzinfo=UTC)


@anyio
async def test_memento_redirected_to_another_capture(archive: TestServer) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive), MOVED, JUNE_2013)
    assert result.outcome == MementoOutcome.OK
    assert result.fetched_uri == f"{base(archive)}20130615000000id_/{MOVED}"
    assert result.fetch is not None
    assert result.fetch.final_url == f"{base(archive)}20130615120000id_/{MOVED}"
    assert result.memento_datetime == datetime(2013, 6, 15, 12, tzinfo=UTC)


@anyio
async def test_timegate_404_is_memento_none(archive: TestServer) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive), NOT_ARCHIVED, JUNE_2013)
    assert result.outcome == MementoOutcome.NONE
    assert result.memento_uri is None and result.fetch is None
    assert result.timegate_fetch is not None and result.timegate_fetch.status_code == 404


@anyio
async def test_redirect_without_location_is_memento_none(archive: TestServer) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive), NO_LOCATION, JUNE_2013)
    assert result.outcome == MementoOutcome.NONE
    assert result.error is not None and "Location" in result.error
    assert result.fetch is None


@anyio
@pytest.mark.parametrize(
    ("original", "outcome"), [(GONE_MEMENTO, Outcome.HTTP_4XX), (BROKEN_MEMENTO, Outcome.HTTP_5XX)]
)
async def test_failed_memento_fetch_is_its_outcome(
    archive: TestServer, original: str, outcome: Outcome
) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive), original, JUNE_2013)
    assert result.outcome == outcome
    assert result.memento_uri == f"{base(archive)}20130615120000/{original}"
    assert result.fetched_uri == f"{base(archive)}20130615120000id_/{original}"
    assert result.error is not None and "HTTP" in result.error
    assert result.fetch is not None and result.fetch.outcome is outcome
    assert result.memento_datetime is None


@anyio
async def test_timegate_200_with_memento_datetime_is_the_memento(archive: TestServer) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive, "/tg200/"), STORY, JUNE_2013)
    assert result.outcome == MementoOutcome.OK
    assert result.memento_datetime == datetime(2013, 6, 15, 12, tzinfo=UTC)
    assert result.memento_uri == f"{base(archive)}20130615120000id_/{STORY}"
    assert result.fetched_uri == f"{base(archive, '/tg200/')}{STORY}"
    assert result.fetch is result.timegate_fetch
    assert result.fetch is not None and result.fetch.text is not None
    assert "story in 2013" in result.fetch.text


@anyio
async def test_timegate_200_without_memento_datetime_is_none(archive: TestServer) -> None:
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive, "/plain200/"), STORY, JUNE_2013)
    assert result.outcome == MementoOutcome.NONE
    assert result.error is not None and "Memento-Datetime" in result.error


@anyio
async def test_other_timegate_failure_is_its_outcome() -> None:
    timegate = f"http://127.0.0.1:{closed_port()}/web/"
    async with local_fetcher(max_attempts=1, respect_robots=False) as fetcher:
        result = await find_memento(fetcher, timegate, STORY, JUNE_2013)
    assert result.outcome == Outcome.CONNECT_ERROR
    assert result.error is not None and result.error.startswith("TimeGate:")
    assert result.timegate_fetch is not None and result.fetch is None


@anyio
async def test_find_mementos_keeps_input_order(archive: TestServer) -> None:
    wanted = [
        (NOT_ARCHIVED, JUNE_2013),
        (STORY, datetime(2009, 1, 1, tzinfo=UTC)),
        (GONE_MEMENTO, JUNE_2013),
        (STORY, datetime(2021, 1, 1, tzinfo=UTC)),
    ]
    async with local_fetcher() as fetcher:
        results = await find_mementos(fetcher, base(archive), wanted)
    assert [(r.url, r.accept_datetime) for r in results] == wanted
    assert [r.outcome for r in results] == [
        MementoOutcome.NONE, MementoOutcome.OK, Outcome.HTTP_4XX, MementoOutcome.OK,
    ]
    assert [r.memento_datetime for r in results] == [
        None, capture_datetime("20100101000000"), None, capture_datetime("20200301080000"),
    ]


@anyio
async def test_empty_timegate_is_a_caller_error(archive: TestServer) -> None:
    async with local_fetcher() as fetcher:
        with pytest.raises(ValueError):
            await find_memento(fetcher, "", STORY, JUNE_2013)
        with pytest.raises(ValueError):
            await find_mementos(fetcher, "", [(STORY, JUNE_2013)])


@anyio
async def test_a_bug_is_internal_error_not_raised(
    archive: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(uri: str) -> str:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("fetching.memento.original_bytes_uri", broken)
    async with local_fetcher() as fetcher:
        result = await find_memento(fetcher, base(archive), STORY, JUNE_2013)
    assert result.outcome == Outcome.INTERNAL_ERROR
    assert result.error is not None and "kaboom" in result.error


# --- limits and guard ------------------------------------------------------------------


@anyio
async def test_memento_fetch_obeys_the_size_limit(archive: TestServer) -> None:
    async with local_fetcher(max_bytes=1024) as fetcher:
        result = await find_memento(fetcher, base(archive), BIG, JUNE_2013)
    assert result.outcome == Outcome.TOO_LARGE
    assert result.fetch is not None and result.fetch.body is None


@anyio
async def test_memento_fetch_goes_through_the_guard(archive: TestServer) -> None:
    # Guard on: archive.test resolves to a public address (fake DNS, loopback network);
    # the TimeGate names a memento on intranet.test, which resolves to 10.0.0.7.
    harness = Harness(archive)
    harness.resolver.answers["intranet.test"] = ["10.0.0.7"]
    timegate = f"http://archive.test:{archive.port}/web/"
    async with harness.fetcher() as fetcher:
        result = await find_memento(fetcher, timegate, ELSEWHERE, JUNE_2013)
    assert result.outcome == Outcome.BLOCKED_ADDRESS
    assert result.memento_uri == f"http://intranet.test:{archive.port}/web/20130615120000/{ELSEWHERE}"
    assert result.error is not None and "10.0.0.7" in result.error
    assert not archive.entries(host="intranet.test")


@anyio
async def test_timegate_request_goes_through_the_guard(archive: TestServer) -> None:
    async with Harness(archive).fetcher() as fetcher:  # guard on: 127.0.0.1 is refused
        result = await find_memento(fetcher, base(archive), STORY, JUNE_2013)
    assert result.outcome == Outcome.BLOCKED_ADDRESS
    assert result.timegate_fetch is not None and result.fetch is None
