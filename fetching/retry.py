"""When to retry, and how long to wait: exponential backoff with full jitter."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# 408 Request Timeout, 425 Too Early, 429 Too Many Requests (RFC 9110 §15.5.9,
# RFC 8470 §5.2, RFC 6585 §4) and the transient 5xx; 520-527/530 are the
# Cloudflare-style "origin unreachable" codes that CDNs put in front of a site.
RETRYABLE_STATUSES = frozenset(
    {408, 425, 429, 500, 502, 503, 504, *range(520, 528), 530}
)


def is_retryable_status(status: int) -> bool:
    """True for statuses worth another attempt after a pause."""
    return status in RETRYABLE_STATUSES


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date, RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    # delay-seconds is 1*DIGIT, ASCII only: str.isdigit() also accepts "²" and "٣".
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None  # unparsable: ignore it and fall back to our own backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP-dates are always GMT
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True, slots=True)
class Backoff:
    """Full-jitter exponential backoff (AWS Architecture Blog, 2015)."""

    base: float
    cap: float

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Random pause in [0, min(cap, base * 2**(attempt-1))] after attempt `attempt`."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return rng.uniform(0.0, ceiling)


def next_delay(
    backoff: Backoff,
    attempt: int,
    retry_after: float | None,
    retry_after_cap: float,
    rng: random.Random,
) -> float | None:
    """Pause before the next attempt, or None when Retry-After asks more than the cap."""
    if retry_after is not None:
        if retry_after > retry_after_cap:
            return None
        # The server named a time: wait exactly that (RFC 9110 §10.2.3), no jitter needed.
        return retry_after
    return backoff.delay(attempt, rng)
