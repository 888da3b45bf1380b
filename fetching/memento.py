"""Dead links recovered from web archives: Memento datetime negotiation (RFC 7089).

A cited page that is gone may survive in a web archive. Its TimeGate (for the
Wayback Machine, ``https://web.archive.org/web/`` + the original URL) answers a
GET carrying ``Accept-Datetime`` with a redirect to the capture (memento) nearest
that datetime (302-style negotiation, RFC 7089 §4.2.1), or with the memento itself
(200-style, §4.2.2). Every request goes through the `Fetcher`, so the address
guard, robots.txt, politeness and size limits apply to the archive as to any host.

Use::

    result = await find_memento(fetcher, WAYBACK_TIMEGATE, url, cited_at)
    if result.outcome == MementoOutcome.OK:
        page = result.fetch  # the original bytes of the capture
"""

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from enum import StrEnum

import httpx

from fetching.fetcher import Fetcher
from fetching.records import FetchRequest, FetchResult, Outcome
from fetching.target import REDIRECT_STATUSES

logger = logging.getLogger(__name__)

WAYBACK_TIMEGATE = "https://web.archive.org/web/"

# A Wayback memento URI: .../web/<14-digit timestamp><flag>/<original URL>. The
# first /web/<digits> of the URI is the archive's; the original URL may hold more.
_WAYBACK = re.compile(
    r"^(?P<head>[a-z][a-z0-9+.-]*://[^/?#]+(?:/[^/?#]*)*?/web/)"
    r"(?P<ts>\d{14})(?P<flag>(?:[a-z]{2}_)?)/(?P<tail>.*)$",
    re.IGNORECASE | re.DOTALL,
)


class MementoOutcome(StrEnum):
    """How a memento lookup ended when no request failed."""

    OK = "memento_ok"  # a capture was found and fetched
    NONE = "memento_none"  # the TimeGate has no capture (404 from the TimeGate, or no Location)


@dataclass(frozen=True, slots=True)
class MementoResult:
    """The result of asking one TimeGate for one URL at one datetime."""

    url: str  # the original (cited) URL
    timegate: str  # the TimeGate base asked
    accept_datetime: datetime  # the datetime asked for (UTC)
    outcome: str  # MementoOutcome value, or a fetching Outcome value when a request failed
    memento_uri: str | None = None  # the memento as the TimeGate named it (Location)
    fetched_uri: str | None = None  # the URI fetched for the original bytes (Wayback id_ form)
    memento_datetime: datetime | None = None  # the memento's Memento-Datetime (RFC 7089 §2.1.1)
    fetch: FetchResult | None = None  # the memento fetch (body, headers, attempts)
    timegate_fetch: FetchResult | None = None  # the TimeGate request's result
    error: str | None = None


def timegate_url(timegate: str, url: str) -> str:
    """The TimeGate URI for `url`: the base followed by the original URL, verbatim."""
    if not timegate:
        raise ValueError("empty TimeGate base")
    # Archives take the original URL unescaped after the base (Wayback, pywb, the
    # Memento aggregator), so it is appended as is rather than percent-encoded.
    return timegate + url


def original_bytes_uri(memento_uri: str) -> str:
    """The Wayback ``id_`` form of a memento URI (original bytes, no banner); others unchanged."""
    match = _WAYBACK.match(memento_uri)
    if match is None or match["flag"]:
        # Not a Wayback URI, or it already names a form (id_, or im_/js_/cs_: not a page).
        return memento_uri
    return f"{match['head']}{match['ts']}id_/{match['tail']}"


def http_date(when: datetime) -> str:
    """`when` as an RFC 7231 IMF-fixdate in GMT, the form Accept-Datetime takes (RFC 7089 §2.1.1)."""
    return format_datetime(_utc(when).replace(microsecond=0), usegmt=True)


async def find_memento(fetcher: Fetcher, timegate: str, url: str, when: datetime) -> MementoResult:
    """Ask `timegate` for the capture of `url` nearest `when` and fetch it; never raises for a URL."""
    if not timegate:
        raise ValueError("empty TimeGate base")  # a caller's bug, not a URL's
    asked = _utc(when)
    try:
        return await _find(fetcher, timegate, url, asked)
    except Exception as exc:  # the Fetcher's contract: a bug costs one URL, never the batch
        logger.exception("unexpected error finding a memento of %s", url)
        return MementoResult(
            url=url,
            timegate=timegate,
            accept_datetime=asked,
            outcome=Outcome.INTERNAL_ERROR,
            error=f"internal error: {type(exc).__name__}: {exc}",
        )


async def find_mementos(
    fetcher: Fetcher, timegate: str, wanted: Sequence[tuple[str, datetime]]
) -> list[MementoResult]:
    """`find_memento` for each (url, datetime) concurrently; results in input order."""
    if not timegate:
        raise ValueError("empty TimeGate base")
    # The Fetcher's scheduler bounds concurrency and spaces requests to the archive.
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(
                find_memento(fetcher, timegate, url, when), context=fetcher.task_context()
            )
            for url, when in wanted
        ]
    return [task.result() for task in tasks]


async def _find(fetcher: Fetcher, timegate: str, url: str, asked: datetime) -> MementoResult:
    """Negotiate with the TimeGate, then fetch the memento it names."""
    base = MementoResult(url=url, timegate=timegate, accept_datetime=asked, outcome="")
    gate = await fetcher.fetch(
        FetchRequest(
            timegate_url(timegate, url),
            headers=(("Accept-Datetime", http_date(asked)),),
            # The redirect is the answer: its Location names the memento (RFC 7089 §4.2.1).
            follow_redirects=False,
        )
    )
    found = replace(base, timegate_fetch=gate)
    if gate.status_code in REDIRECT_STATUSES:
        location = _header(gate, "location")
        if not location:
            return replace(
                found,
                outcome=MementoOutcome.NONE,
                error=f"TimeGate answered HTTP {gate.status_code} without a Location header",
            )
        memento_uri = _joined(gate.final_url or gate.url, location)
        if memento_uri is None:
            return replace(found, outcome=gate.outcome, error=f"unusable Location {location!r}")
        return await _fetch_memento(fetcher, replace(found, memento_uri=memento_uri))
    if gate.outcome is Outcome.OK:
        return _gate_is_memento(found, gate)
    if gate.status_code == 404:
        # A TimeGate that holds no memento of the original answers 404 (the Wayback
        # Machine does), whatever the Accept-Datetime.
        return replace(found, outcome=MementoOutcome.NONE, error=gate.error)
    return replace(found, outcome=gate.outcome, error=f"TimeGate: {gate.error}")


def _gate_is_memento(found: MementoResult, gate: FetchResult) -> MementoResult:
    """A 200 from the TimeGate: the memento itself if it says so (200-style, RFC 7089 §4.2.2)."""
    stamp = _parse_http_date(_header(gate, "memento-datetime"))
    if stamp is None:
        # Only Memento-Datetime marks a response as a memento (RFC 7089 §2.1.1); a
        # plain page here is the archive's own, not the cited one.
        return replace(
            found,
            outcome=MementoOutcome.NONE,
            error="TimeGate answered 200 without a Memento-Datetime header: not a memento",
        )
    final = gate.final_url or gate.url
    # Content-Location names the memento's own URI, if it has one (Pattern 2.2).
    memento_uri = _joined(final, _header(gate, "content-location")) or final
    return replace(
        found,
        outcome=MementoOutcome.OK,
        memento_uri=memento_uri,
        fetched_uri=final,
        memento_datetime=stamp,
        fetch=gate,
    )


async def _fetch_memento(fetcher: Fetcher, found: MementoResult) -> MementoResult:
    """Fetch the original bytes of the memento the TimeGate named."""
    assert found.memento_uri is not None
    fetched_uri = original_bytes_uri(found.memento_uri)
    # Redirects are followed: the Wayback Machine moves a request between captures.
    page = await fetcher.fetch(FetchRequest(fetched_uri))
    found = replace(found, fetched_uri=fetched_uri, fetch=page)
    if page.outcome is not Outcome.OK:
        return replace(found, outcome=page.outcome, error=f"memento {fetched_uri}: {page.error}")
    stamp = _parse_http_date(_header(page, "memento-datetime"))
    if stamp is None:
        stamp = _uri_timestamp(page.final_url or fetched_uri) or _uri_timestamp(fetched_uri)
    return replace(found, outcome=MementoOutcome.OK, memento_datetime=stamp)


def _joined(base: str, reference: str | None) -> str | None:
    """`reference` resolved against `base` (RFC 3986 §5), or None if absent or unusable."""
    if not reference:
        return None
    try:
        return str(httpx.URL(base).join(reference))
    except (httpx.InvalidURL, ValueError):
        return None


def _header(result: FetchResult, name: str) -> str | None:
    """The first value of header `name` in `result` (case-insensitive), stripped."""
    for key, value in result.headers:
        if key.lower() == name:
            return value.strip()
    return None


def _parse_http_date(value: str | None) -> datetime | None:
    """An HTTP-date as an aware UTC datetime, or None if absent or unparsable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _utc(parsed)


def _uri_timestamp(uri: str) -> datetime | None:
    """The 14-digit timestamp of a Wayback memento URI as UTC, or None."""
    match = _WAYBACK.match(uri)
    if match is None:
        return None
    try:
        return datetime.strptime(match["ts"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None  # fourteen digits that are no date (month 13, ...)


def _utc(when: datetime) -> datetime:
    """`when` in UTC; a naive datetime is taken to be UTC already (as stored by the pipeline)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
