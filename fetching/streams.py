"""An httpcore network backend on plain asyncio streams.

httpcore's default goes through anyio, whose cancel scopes, backend lookups and
per-call attribute tables cost more CPU than the bytes they carry on a fast link:
2,000 pages and 500 robots.txt over loopback took 5.7 s of the fetching process's
CPU through anyio and 4.4 s through these streams (medians of alternating runs).
recite runs only on asyncio, so the streams here use it directly; timeouts and errors
map to httpcore's exceptions as its anyio backend maps them.

Kept over httpcore's own backend after measuring both again (issue 17,
benchmarks/network_backend.py). It implements httpcore's public network-backend
interface only (no private httpcore name); pyproject bounds httpcore and httpx below
their next minor versions, and tests/fetching/test_httpcore_contract.py fails when the
installed httpcore is not a tested one or asks a stream for something answered here.
"""

import asyncio
import select
import socket
import ssl
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import httpcore


class _Mapped:
    """Translate asyncio/socket failures in the block into the httpcore exceptions httpx expects.

    A class, not @contextmanager: it wraps every read and write, and a generator-based
    context manager per call cost 1-2% of the fetching process's CPU (issue 20).
    Stateless, so one instance per pair of exceptions serves every block.
    """

    def __init__(self, timeout_error: type[Exception], other_error: type[Exception]) -> None:
        self._timeout_error = timeout_error
        self._other_error = other_error

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, TimeoutError):
            raise self._timeout_error(str(exc) or type(exc).__name__) from exc
        if isinstance(exc, OSError | EOFError):  # ssl.SSLError, ConnectionResetError: OSErrors
            raise self._other_error(str(exc) or type(exc).__name__) from exc


_READ = _Mapped(httpcore.ReadTimeout, httpcore.ReadError)
_WRITE = _Mapped(httpcore.WriteTimeout, httpcore.WriteError)
_CONNECT = _Mapped(httpcore.ConnectTimeout, httpcore.ConnectError)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS) connection as an asyncio reader/writer pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Up to `max_bytes` bytes; b"" at the end of the stream."""
        with _READ:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of `buffer`, waiting while the peer's window is full."""
        if not buffer:
            return
        with _WRITE:
            self._writer.write(buffer)
            transport = self._writer.transport
            if transport.get_write_buffer_size() == 0 and not transport.is_closing():
                # All sent at once (a request head always is): drain() would return at
                # once, so no timer is armed for it. A lost connection is closing, and
                # still goes through drain(), which raises its error.
                return
            async with asyncio.timeout(timeout):
                await self._writer.drain()

    async def aclose(self) -> None:
        """Close without waiting for the peer (a hostile one may never answer)."""
        if self._writer.get_extra_info("ssl_object") is not None:
            # close() on TLS sends close_notify and waits for the peer's, up to asyncio's
            # ssl_shutdown_timeout (30 s), the socket held open all along. The response
            # was read (or given up on), so nothing is lost by dropping the connection.
            self._writer.transport.abort()
            return
        self._writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Upgrade this connection to TLS in place (SNI and certificate check on the name)."""
        try:
            with _CONNECT:
                async with asyncio.timeout(timeout):
                    await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except BaseException:
            self._writer.close()
            raise
        return self

    def get_extra_info(self, info: str) -> Any:
        """What httpcore asks of a stream: addresses, the socket, TLS, readability."""
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            # An idle keep-alive connection that is readable was closed (or written to)
            # by the server: httpcore then drops it instead of reusing it.
            sock = self._writer.get_extra_info("socket")
            return self._reader.at_eof() or (sock is not None and socket_readable(sock))
        return None


def socket_readable(sock: socket.socket) -> bool:
    """Whether a recv() would return at once (data, or the end of the stream).

    A poll with no wait, like httpcore's private helper; a closed socket counts as
    readable, so that its next read returns the end of the stream.
    """
    fd = sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens `AsyncioStream`s; host is an address or a name asyncio resolves."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect within `timeout`; asyncio sets TCP_NODELAY itself."""
        local = (local_address, 0) if local_address else None
        with _CONNECT:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, local_addr=local)
            try:
                sock = writer.get_extra_info("socket")
                for option in socket_options or ():
                    sock.setsockopt(*option)
            except OSError:
                writer.close()
                raise
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refused: recite speaks TCP only."""
        raise httpcore.ConnectError("unix sockets are not supported")

    async def sleep(self, seconds: float) -> None:
        """asyncio's sleep."""
        await asyncio.sleep(seconds)
