"""The asyncio network backend against real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpcore
import pytest

from fetching.streams import AsyncioBackend
from tests.fetching.test_client import self_signed

pytestmark = pytest.mark.anyio

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 running `handler` per connection; yields its port."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def echo_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(await reader.read(100))
    await writer.drain()
    writer.close()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(5)
    writer.close()


async def test_round_trip_then_end_of_stream_is_readable() -> None:
    async with serving(echo_once) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        assert stream.get_extra_info("is_readable") is False
        await stream.write(b"hello", timeout=5)
        assert await stream.read(100, timeout=5) == b"hello"
        assert await stream.read(100, timeout=5) == b""
        # The server closed: an idle pooled connection like this one must not be reused.
        assert stream.get_extra_info("is_readable") is True
        assert stream.get_extra_info("server_addr")[1] == port
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
        assert stream.get_extra_info("ssl_object") is None
        await stream.aclose()


async def test_read_timeout_is_httpcore_read_timeout() -> None:
    async with serving(silent) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(100, timeout=0.05)
        await stream.aclose()


async def test_refused_connection_is_httpcore_connect_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpcore.ConnectError):
        await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)


async def test_write_to_a_reset_connection_is_httpcore_write_error() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()  # RST, not FIN

    async with serving(reset) as port:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await asyncio.sleep(0.1)
        with pytest.raises((httpcore.WriteError, httpcore.ReadError)):
            for _ in range(50):  # the reset shows on a later write or the read
                await stream.write(b"x" * 65536, timeout=5)
            await stream.read(100, timeout=5)
        await stream.aclose()


async def test_unix_sockets_are_refused() -> None:
    with pytest.raises(httpcore.ConnectError):
        await AsyncioBackend().connect_unix_socket("/tmp/recite-none.sock")


async def test_a_tls_connection_is_dropped_at_close_without_waiting_for_the_peer(
    tmp_path: Path,
) -> None:
    # Issue 17: close() on TLS waits up to 30 s for the peer's close_notify with the socket
    # open; a peer that never answers held it that long. aclose() aborts instead.
    cert, key = self_signed(tmp_path, "secure.test")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(str(cert), str(key))
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def hostile_peer() -> None:
        conn, _ = listener.accept()
        with server_context.wrap_socket(conn, server_side=True):
            done.wait(10)  # handshake done; never reads, never sends close_notify

    thread = threading.Thread(target=hostile_peer, daemon=True)
    thread.start()
    try:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", listener.getsockname()[1], 5)
        client_context = ssl.create_default_context(cafile=str(cert))
        stream = await stream.start_tls(client_context, "secure.test", timeout=5)
        assert stream.get_extra_info("ssl_object") is not None
        raw = stream.get_extra_info("socket")
        await stream.aclose()
        for _ in range(5):
            await asyncio.sleep(0)
        assert raw.fileno() == -1
    finally:
        done.set()
        thread.join(10)
        listener.close()
