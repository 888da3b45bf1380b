"""Decode seed files: untrusted bytes to text, or a reason they cannot be read."""

import codecs
import hashlib
from dataclasses import dataclass

import charset_normalizer

SEED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".xhtml")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Text files hold no NUL bytes; UTF-16/32 without a BOM are the exception and are rare.
_BINARY_SNIFF = 8192


@dataclass(frozen=True, slots=True)
class DecodedSeed:
    """A seed's bytes decoded: the text and the encoding used, or why not."""

    sha256: str
    size: int
    text: str | None
    encoding: str | None
    reason: str | None


def decode_seed(data: bytes) -> DecodedSeed:
    """Decode a seed: BOM, then strict UTF-8, then detection; binary data is refused."""
    digest = hashlib.sha256(data).hexdigest()
    text, encoding, reason = _decode(data)
    return DecodedSeed(digest, len(data), text, encoding, reason)


def _decode(data: bytes) -> tuple[str | None, str | None, str | None]:
    if not data.strip():
        return "", "utf-8", None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding, None
            except UnicodeDecodeError:
                return None, None, f"undecodable: invalid {encoding} after byte-order mark"
    if b"\x00" in data[:_BINARY_SNIFF]:
        return None, None, "binary: NUL bytes in the first 8 KiB"
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[: 1 << 20]).best()
    if best is None:
        return None, None, "undecodable: no text encoding fits"
    return data.decode(best.encoding, errors="replace"), best.encoding, None
