"""The httpx client recite fetches with, its address-pinning transport, the
translation of httpx errors into `fetching.errors`, and the total-time cap.

Pinning: the fetcher resolves and checks a host (`guard.resolve_checked`), then
sends the request inside `pinned(...)`. The network backend below connects to
exactly those checked addresses instead of resolving the name again, so DNS
rebinding between check and connect cannot reach a private address. The URL,
Host header and TLS SNI/certificate check keep the host name (httpcore passes
the origin host as `server_hostname`). A connection made without a pin (the
client used on its own) resolves and checks through the guard itself.
"""

import asyncio
import contextvars
import logging
import ssl
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import Any

import httpcore
import httpx

from fetching.body import SUPPORTED_ENCODINGS
from fetching.config import FetchConfig
from fetching.errors import (
    BlockedSchemeError,
    ConnectError,
    FetchError,
    FetchTimeoutError,
    InvalidURLError,
    ProtocolError,
    TotalTimeoutError,
)
from fetching.guard import IPAddress, Resolver, SystemResolver, resolve_checked
from fetching.streams import AsyncioBackend

_PinMap = Mapping[tuple[str, int], tuple[str, ...]]
_PINS: contextvars.ContextVar[_PinMap | None] = contextvars.ContextVar(
    "recite_fetch_pins", default=None
)

# httpx's own request log line, kept on the short path of `FetchClient.send_streamed`.
_HTTPX_LOGGER = logging.getLogger("httpx")

ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
# We decompress ourselves, bounded (body.py), so we offer only what we decode.
ACCEPT_ENCODING = ", ".join(SUPPORTED_ENCODINGS)


@contextmanager
def pinned(host: str, port: int, addresses: Iterable[IPAddress]) -> Iterator[None]:
    """Within the block, connections to host:port go to `addresses` only."""
    current = _PINS.get() or {}
    token = _PINS.set({**current, (host.lower(), port): tuple(str(a) for a in addresses)})
    try:
        yield
    finally:
        _PINS.reset(token)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that connects to pinned, checked addresses."""

    def __init__(
        self,
        inner: httpcore.AsyncNetworkBackend,
        resolver: Resolver,
        *,
        allow_private: bool,
        resolve_timeout: float,
    ) -> None:
        self._inner = inner
        self._resolver = resolver
        self._allow_private = allow_private
        self._resolve_timeout = resolve_timeout

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first reachable pinned address of host:port."""
        addresses = (_PINS.get() or {}).get((host.lower(), port))
        if addresses is None:
            checked = await resolve_checked(
                host,
                port,
                self._resolver,
                allow_private=self._allow_private,
                timeout=self._resolve_timeout,
            )
            addresses = tuple(str(a) for a in checked)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the next checked address, like happy eyeballs would
        assert failure is not None  # resolve_checked never returns no address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refused: recite only speaks TCP to public addresses."""
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """Delegate to the wrapped backend."""
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool that uses `PinnedBackend`."""

    def __init__(
        self,
        config: FetchConfig,
        backend: httpcore.AsyncNetworkBackend,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        limits = _limits(config)
        # One SSL context for both pools: each loads the CA bundle anew (10-20 ms).
        context = ssl_context or httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=context, limits=limits, trust_env=False)
        # Replace the pool httpx built with one on our backend; httpx keeps its
        # request mapping and exception translation (map_httpcore_exceptions).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class FetchClient(httpx.AsyncClient):
    """The AsyncClient `make_client` builds: one transport, no auth, no event hooks.

    `send_streamed` is `send(request, stream=True)` without the machinery this client
    never uses: httpx's auth flow, redirect loop and hooks, and above all its cookie
    extraction, which wraps every response and request in urllib objects to look for a
    Set-Cookie header (4% of the fetching process's CPU at 2,000 pages, issue 20).
    Cookies are still kept when a response sets one, as `send` keeps them.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self._only_transport = transport

    async def send_streamed(self, request: httpx.Request) -> httpx.Response:
        """The response to `request`, its body still to be read (then closed by the caller)."""
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        response = await self._only_transport.handle_async_request(request)
        response.request = request
        if "set-cookie" in response.headers:
            self.cookies.extract_cookies(response)
        if _HTTPX_LOGGER.isEnabledFor(logging.INFO):
            _HTTPX_LOGGER.info(
                'HTTP Request: %s %s "%s %d %s"', request.method, request.url,
                response.http_version, response.status_code, response.reason_phrase,
            )
        return response


async def send_streamed(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """`client.send(request, stream=True)`, on the short path when `make_client` built it."""
    if isinstance(client, FetchClient):
        return await client.send_streamed(request)
    return await client.send(request, stream=True)


def _limits(config: FetchConfig) -> httpx.Limits:
    """Pool limits matching the global concurrency."""
    return httpx.Limits(
        max_connections=config.concurrency,
        max_keepalive_connections=config.concurrency,
        keepalive_expiry=30.0,
    )


def make_client(
    config: FetchConfig,
    *,
    resolver: Resolver | None = None,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """The AsyncClient for one run; the caller enters it with `async with`.

    `resolver` is used only for connections made without a pin (the Fetcher
    pins every request); `network_backend` opens the actual sockets (tests use
    it to route public-looking test addresses to 127.0.0.1); `ssl_context`
    replaces the default trust store (certifi), e.g. for a corporate CA.
    """
    backend = PinnedBackend(
        network_backend or AsyncioBackend(),
        resolver or SystemResolver(),
        allow_private=config.allow_private_addresses,
        resolve_timeout=config.connect_timeout,
    )
    return FetchClient(
        PinnedTransport(config, backend, ssl_context),
        headers={
            "User-Agent": config.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        timeout=httpx.Timeout(
            connect=config.connect_timeout,
            read=config.read_timeout,
            write=config.read_timeout,
            pool=config.total_timeout,
        ),
        follow_redirects=False,  # the Fetcher follows, re-checking every hop
        trust_env=False,  # no proxy from the environment: it would bypass pinning
    )


@asynccontextmanager
async def deadline(seconds: float) -> AsyncIterator[None]:
    """Raise TotalTimeoutError if the block runs longer than `seconds`."""
    if seconds <= 0:
        raise TotalTimeoutError("total time cap exhausted")
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError as exc:
        raise TotalTimeoutError(f"total time cap of {seconds:g}s exceeded") from exc


def translated() -> "_Translated":
    """Turn httpx exceptions raised in the block into `fetching.errors`."""
    return _TRANSLATED


class _Translated:
    """The context manager `translated` returns: a class, as streams._Mapped is (issue 20)."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            error = _translation(exc)
            if error is not None:
                raise error from exc


_TRANSLATED = _Translated()


def _translation(exc: BaseException) -> FetchError | None:
    """The `fetching.errors` exception for an httpx one (first match wins), else None."""
    if isinstance(exc, httpx.TimeoutException):
        return FetchTimeoutError(_describe(exc))
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(_describe(exc))
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return ConnectError(f"connection broken: {_describe(exc)}")
    if isinstance(exc, httpx.ProtocolError):
        return ProtocolError(_describe(exc))
    if isinstance(exc, httpx.UnsupportedProtocol):
        return BlockedSchemeError(_describe(exc))
    if isinstance(exc, httpx.InvalidURL):
        return InvalidURLError(_describe(exc))
    if isinstance(exc, httpx.TransportError):
        return ConnectError(_describe(exc))
    if isinstance(exc, httpx.DecodingError):
        return ProtocolError(_describe(exc))
    return None


def _describe(exc: BaseException) -> str:
    """Exception class and message; some httpx errors have an empty message."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

