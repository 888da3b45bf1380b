"""Reading a response body with a cap on *decoded* bytes.

httpx would decompress each network chunk in full before we could count it, so
one 64 KB chunk of a gzip bomb could expand to ~64 MB. We read raw bytes and
decompress ourselves with `max_length`, so memory never exceeds the cap by more
than one bounded step, whatever the compression ratio.
"""

import zlib
from collections.abc import AsyncIterator, Iterator

from fetching.errors import ProtocolError, TooLargeError, UnsupportedTypeError

# What we advertise in Accept-Encoding; we decode exactly these (RFC 9110 §8.4.1).
SUPPORTED_ENCODINGS = ("gzip", "deflate")
_STEP = 64 * 1024


class _ZlibLayer:
    """One gzip/deflate layer, decompressing in bounded steps."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._raw_fallback = not self._gzip  # "deflate" is zlib-wrapped, but some send raw
        self._obj = self._new()
        self._started = False

    def _new(self) -> "zlib._Decompress":
        """A fresh decompressor for this layer's container format."""
        return zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decompress `data`, yielding pieces of at most 64 KB; stop pulling to stop work."""
        while data:
            try:
                out = self._obj.decompress(data, _STEP)
            except zlib.error as exc:
                if self._raw_fallback and not self._started:
                    self._raw_fallback = False
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                kind = "gzip" if self._gzip else "deflate"
                raise ProtocolError(f"corrupt {kind} body: {exc}") from exc
            self._started = True
            data = self._obj.unconsumed_tail
            if self._obj.eof and self._obj.unused_data:
                # Concatenated gzip members (RFC 1952 §2.2) decode one after another.
                data = self._obj.unused_data
                self._obj = self._new()
            if out:
                yield out

    def finish(self) -> None:
        """Refuse a stream that ended before the compressed data did."""
        if self._started and not self._obj.eof:
            raise ProtocolError("compressed body is truncated")


def content_encodings(header: str | None) -> list[str]:
    """The codings of a Content-Encoding header, in the order they were applied."""
    if not header:
        return []
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    for coding in codings:
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise UnsupportedTypeError(f"unsupported content-encoding {coding!r}")
    return codings


async def read_decoded(
    raw_chunks: AsyncIterator[bytes],
    encodings: list[str],
    max_bytes: int,
    *,
    truncate: bool = False,
) -> tuple[bytes, int]:
    """Decoded body and raw byte count; past `max_bytes` decoded bytes, TooLargeError
    (or, with `truncate`, the first `max_bytes`)."""
    layers = [_ZlibLayer(e) for e in reversed(encodings)]  # undo the last coding first
    # Pieces joined once at the end: growing one buffer copies the body again and again.
    pieces: list[bytes] = []
    size = raw = 0
    async for chunk in raw_chunks:
        raw += len(chunk)
        for piece in _through(layers, chunk) if layers else (chunk,):
            pieces.append(piece)
            size += len(piece)
            if size > max_bytes:
                if truncate:
                    return b"".join(pieces)[:max_bytes], raw
                raise TooLargeError(f"body exceeds {max_bytes} bytes after decoding")
    for layer in layers:
        layer.finish()
    return b"".join(pieces), raw


def _through(layers: list[_ZlibLayer], chunk: bytes) -> Iterator[bytes]:
    """Pass `chunk` lazily through every layer, so the caller can stop a bomb early."""
    pieces: Iterator[bytes] = iter((chunk,))
    for layer in layers:
        pieces = _chain(layer, pieces)
    return pieces


def _chain(layer: _ZlibLayer, pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Output of `layer` for each of `pieces`, in order."""
    for piece in pieces:
        yield from layer.feed(piece)
