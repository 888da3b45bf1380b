"""fetching/body.py: bounded decompression of a body, read in chunks, without a server."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator

import pytest

from fetching.body import content_encodings, read_decoded
from fetching.errors import ProtocolError, TooLargeError, UnsupportedTypeError

TEXT = b"<html><body>" + b"<p>hello world</p>" * 200 + b"</body></html>"


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    """`data` in pieces, like a network stream."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("encoded", "header"),
    [
        (TEXT, None),
        (gzip.compress(TEXT), "gzip"),
        (gzip.compress(TEXT), "x-gzip"),
        (zlib.compress(TEXT), "deflate"),
        (zlib.compress(TEXT)[2:-4], "deflate"),  # raw deflate, as some servers send
        (gzip.compress(TEXT[:100]) + gzip.compress(TEXT[100:]), "gzip"),  # two members
        (gzip.compress(gzip.compress(TEXT)), "gzip, gzip"),
        (TEXT, "identity"),
    ],
)
async def test_decoding(encoded: bytes, header: str | None) -> None:
    body, raw = await read_decoded(chunks(encoded), content_encodings(header), 10**6)
    assert body == TEXT
    assert raw == len(encoded)


@pytest.mark.anyio
async def test_bomb_stops_at_the_cap_without_inflating_everything() -> None:
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024), 9)  # 200 MB in ~200 KB
    with pytest.raises(TooLargeError):
        await read_decoded(chunks(bomb, 65536), ["gzip"], 1024 * 1024)


@pytest.mark.anyio
async def test_nested_bomb_stops_too() -> None:
    bomb = gzip.compress(gzip.compress(b" " * (50 * 1024 * 1024), 9), 9)
    with pytest.raises(TooLargeError):
        await read_decoded(chunks(bomb), ["gzip", "gzip"], 1024 * 1024)


@pytest.mark.anyio
async def test_truncate_keeps_the_first_bytes() -> None:
    body, _ = await read_decoded(chunks(TEXT), [], 100, truncate=True)
    assert body == TEXT[:100]


@pytest.mark.anyio
async def test_corrupt_and_truncated_gzip_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        await read_decoded(chunks(b"\x1f\x8b\x08\x00garbage-garbage"), ["gzip"], 10**6)
    with pytest.raises(ProtocolError):
        await read_decoded(chunks(gzip.compress(TEXT)[:-20]), ["gzip"], 10**6)


def test_unsupported_encodings() -> None:
    for header in ("br", "zstd", "compress", "gzip, br"):
        with pytest.raises(UnsupportedTypeError):
            content_encodings(header)
