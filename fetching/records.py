"""Records produced by the fetcher: one `FetchResult` per URL, one `Attempt` per HTTP try."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    """Why a fetch ended the way it did; every URL ends with exactly one."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ROBOTS_DENIED = "robots_denied"
    BLOCKED_ADDRESS = "blocked_address"
    BLOCKED_PORT = "blocked_port"
    BLOCKED_CREDENTIALS = "blocked_credentials"
    INVALID_URL = "invalid_url"
    TOO_LARGE = "too_large"
    UNSUPPORTED_TYPE = "unsupported_type"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    TIMEOUT = "timeout"
    DNS_ERROR = "dns_error"
    CONNECT_ERROR = "connect_error"
    PROTOCOL_ERROR = "protocol_error"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    DECODE_ERROR = "decode_error"
    RETRY_LATER = "retry_later"
    EMPTY_BODY = "empty_body"
    HTTP_3XX = "http_3xx"
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP validators remembered from the last successful fetch (RFC 9110 §8.8).

    `body_sha256` is recite's own validator: the SHA-256 of the last body received. A
    server that sends no ETag (most do not) still lets a 200 with that same body end as
    `not_modified`, so an unchanged page is never extracted or archived again (issue 16).
    """

    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """A URL to fetch, already normalized, with the validators stored for it.

    `headers` are extra request headers sent on every hop (e.g. Accept-Datetime for a
    Memento TimeGate, RFC 7089 §2.1.1); robots.txt requests do not get them. With
    `follow_redirects=False` a redirect ends the fetch as `http_3xx` with the
    response's status and headers, so the caller can read Location, Link and Vary.
    """

    url: str
    validators: Validators = field(default_factory=Validators)
    headers: tuple[tuple[str, str], ...] = ()
    follow_redirects: bool = True


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt (a retry is a new attempt); each becomes a row in `fetches`.

    An attempt follows redirects: `redirect_chain` lists the URLs that answered with
    a redirect, in order, and `final_url` is the last URL requested. A URL refused
    before any request (robots, address guard, ...) still gets one attempt, with
    `status_code=None`, so every fetch leaves a row. `bytes` counts body bytes as
    received (before decompression); `elapsed_ms` is time on the network, without
    politeness waits.
    """

    url: str
    attempt: int
    started_at: datetime
    outcome: Outcome
    status_code: int | None = None
    final_url: str | None = None
    redirect_chain: tuple[str, ...] = ()
    error: str | None = None
    bytes: int = 0
    elapsed_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The final result for one URL after redirects and retries.

    `body` is the decoded content (Content-Encoding removed) and `text` the body
    decoded to `str` with `charset`; both are set only for `ok`. `validators` are
    the ETag/Last-Modified to store for the next conditional GET.
    """

    url: str
    outcome: Outcome
    attempts: tuple[Attempt, ...]
    status_code: int | None = None
    final_url: str | None = None
    redirect_chain: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str | None = None
    charset: str | None = None
    text: str | None = None
    validators: Validators = field(default_factory=Validators)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the result carries a page body to extract."""
        return self.outcome is Outcome.OK and self.text is not None
