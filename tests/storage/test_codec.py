"""Compression of archived bodies: zstd for new rows, zlib for rows archived before."""

import zlib

import pytest

from storage.codec import ARCHIVE_CODEC, compress_body, decompress_body
from storage.errors import StorageError

HTML = b"<html><body>" + b"<p>Geneva talks resume.</p>" * 400 + b"</body></html>"


@pytest.mark.parametrize("body", [HTML, b"", bytes(range(256)) * 3], ids=["html", "empty", "binary"])
def test_round_trip(body: bytes) -> None:
    stored = compress_body(body)
    assert ARCHIVE_CODEC == "zstd"
    assert stored.startswith(b"\x28\xb5\x2f\xfd")  # the zstd frame magic number
    assert decompress_body(stored, ARCHIVE_CODEC, len(body)) == body


def test_html_compresses() -> None:
    assert len(compress_body(HTML)) < len(HTML) // 10


@pytest.mark.parametrize("body", [HTML, b""], ids=["html", "empty"])
def test_legacy_zlib_rows_read_back(body: bytes) -> None:
    assert decompress_body(zlib.compress(body, 1), "zlib", len(body)) == body


def test_unknown_codec_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="unknown archive codec 'brotli'"):
        decompress_body(b"x", "brotli", 1)


@pytest.mark.parametrize("codec", ["zstd", "zlib"])
def test_corrupt_body_is_a_storage_error(codec: str) -> None:
    with pytest.raises(StorageError, match=f"corrupt {codec} body") as info:
        decompress_body(b"not compressed at all", codec, 10)
    assert info.value.__cause__ is not None


@pytest.mark.parametrize("codec", ["zstd", "zlib"])
def test_wrong_size_is_a_storage_error(codec: str) -> None:
    stored = compress_body(HTML) if codec == "zstd" else zlib.compress(HTML)
    for size in (len(HTML) - 1, len(HTML) + 1):
        with pytest.raises(StorageError):
            decompress_body(stored, codec, size)
