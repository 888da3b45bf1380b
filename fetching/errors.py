"""Exceptions raised inside the fetcher; each maps to one `Outcome`.

They never leave `Fetcher.fetch`: the fetcher turns them into a `FetchResult`.
httpx errors are translated at the boundary (`client.translate`) with
``raise ... from exc`` so the original cause stays in the traceback.

::

    FetchError                      outcome
    ├── RefusedError                (not requested, by policy)
    │   ├── InvalidURLError         invalid_url
    │   ├── BlockedSchemeError      blocked_address (a non-http(s) scheme: issue #2's contract)
    │   ├── BlockedCredentialsError blocked_credentials
    │   ├── BlockedPortError        blocked_port
    │   ├── BlockedAddressError     blocked_address
    │   └── RobotsDeniedError       robots_denied
    ├── NetworkError                (no usable answer from the network)
    │   ├── DNSError                dns_error
    │   ├── ConnectError            connect_error  (refused, reset, closed mid-body)
    │   └── FetchTimeoutError       timeout
    │       └── TotalTimeoutError   timeout        (total cap; not retried)
    ├── ProtocolError               protocol_error (garbage status line, bad length, ...)
    ├── RedirectError
    │   ├── RedirectLoopError       redirect_loop
    │   ├── TooManyRedirectsError   too_many_redirects
    │   └── BadRedirectError        http_3xx       (3xx without a usable Location)
    └── ContentError                (an answer we will not keep)
        ├── TooLargeError           too_large
        ├── UnsupportedTypeError    unsupported_type
        ├── EmptyBodyError          empty_body
        └── DecodeError             decode_error
"""

from typing import ClassVar

from fetching.records import Outcome


class FetchError(Exception):
    """Base of every fetch failure; `outcome` is the reason code it ends with."""

    outcome: ClassVar[Outcome] = Outcome.INTERNAL_ERROR
    retryable: bool = False  # worth another attempt after a pause

    def __init__(self, message: str = "", *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class RefusedError(FetchError):
    """The URL was not requested because a policy refuses it."""


class InvalidURLError(RefusedError):
    """The URL cannot be parsed or has no host."""

    outcome = Outcome.INVALID_URL


class BlockedSchemeError(RefusedError):
    """The scheme is not http or https (recorded as `blocked_address`; the error names it)."""

    outcome = Outcome.BLOCKED_ADDRESS


class BlockedCredentialsError(RefusedError):
    """The URL carries user:password@ credentials."""

    outcome = Outcome.BLOCKED_CREDENTIALS


class BlockedPortError(RefusedError):
    """The URL names a port outside `FetchConfig.allowed_ports`."""

    outcome = Outcome.BLOCKED_PORT


class BlockedAddressError(RefusedError):
    """The host resolves to an address the guard refuses (loopback, private, ...)."""

    outcome = Outcome.BLOCKED_ADDRESS


class RobotsDeniedError(RefusedError):
    """robots.txt disallows the URL for recite's user agent."""

    outcome = Outcome.ROBOTS_DENIED


class NetworkError(FetchError):
    """The network gave no usable answer."""

    retryable = True


class DNSError(NetworkError):
    """The host name does not resolve."""

    outcome = Outcome.DNS_ERROR
    # A name that does not resolve now will not resolve in a second either.
    retryable = False


class ConnectError(NetworkError):
    """Connection refused, reset, or closed in the middle of the body."""

    outcome = Outcome.CONNECT_ERROR


class FetchTimeoutError(NetworkError):
    """A connect, read, write or pool timeout."""

    outcome = Outcome.TIMEOUT


class TotalTimeoutError(FetchTimeoutError):
    """The attempt exceeded `total_timeout`; a slow server gets no second try."""

    retryable = False


class ProtocolError(FetchError):
    """The server broke HTTP/1.1 framing (status line, headers, Content-Length)."""

    outcome = Outcome.PROTOCOL_ERROR


class RedirectError(FetchError):
    """The redirect chain cannot be followed."""

    outcome = Outcome.TOO_MANY_REDIRECTS


class RedirectLoopError(RedirectError):
    """A URL appears twice in the redirect chain."""

    outcome = Outcome.REDIRECT_LOOP


class TooManyRedirectsError(RedirectError):
    """More redirects than `max_redirects`."""

    outcome = Outcome.TOO_MANY_REDIRECTS


class BadRedirectError(RedirectError):
    """A 3xx status without a usable Location (or a 304 we did not ask for)."""

    outcome = Outcome.HTTP_3XX


class ContentError(FetchError):
    """The server answered, but with content recite does not keep."""


class TooLargeError(ContentError):
    """The decoded body exceeds `max_bytes`."""

    outcome = Outcome.TOO_LARGE


class UnsupportedTypeError(ContentError):
    """The content type is not HTML."""

    outcome = Outcome.UNSUPPORTED_TYPE


class EmptyBodyError(ContentError):
    """A success status with no body."""

    outcome = Outcome.EMPTY_BODY


class DecodeError(ContentError):
    """No text can be recovered from the body."""

    outcome = Outcome.DECODE_ERROR
