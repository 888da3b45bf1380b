"""Find and read seed files: every file ends read or skipped with a reason, never a crash."""

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from extractors.citations import scan_seed
from extractors.content import extract_html, html_to_text
from extractors.passages import split_passages
from extractors.records import Citation, Passage
from extractors.seedfiles import SEED_SUFFIXES, decode_seed
from storage.records import SeedRow, document_id


@dataclass(frozen=True, slots=True)
class SeedDocument:
    """A seed as read: its row, its document text, passages and citations."""

    row: SeedRow
    url: str
    text: str | None
    passages: tuple[Passage, ...]
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class SeedLimits:
    """Caps on what one seed may contribute."""

    max_bytes: int
    max_urls: int


def discover(paths: Sequence[str]) -> Iterator[tuple[Path, str | None]]:
    """Seed files under `paths` (folders recursively), with a reason when one is unusable."""
    seen: set[tuple[int, int]] = set()
    for raw in paths:
        path = Path(raw).expanduser().absolute()
        if not path.exists():
            yield path, "not_found: no such file or folder"
        elif path.is_dir():
            yield from _walk(path, seen)
        else:
            ok = path.suffix.lower() in SEED_SUFFIXES
            yield path, None if ok else f"unsupported_type: {path.suffix or 'no suffix'}"


def _walk(root: Path, seen: set[tuple[int, int]]) -> Iterator[tuple[Path, str | None]]:
    # followlinks=True with a set of visited directories: symlinked folders are read once
    # and symlink loops end instead of recursing forever.
    for folder, dirs, files in os.walk(root, followlinks=True, onerror=None):
        try:
            stat = os.stat(folder)
        except OSError:
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in seen:
            dirs.clear()
            continue
        seen.add(key)
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if path.suffix.lower() in SEED_SUFFIXES:
                yield path, None


def read_seed(path: Path, limits: SeedLimits) -> SeedDocument:
    """Read one seed file: decode, split into passages, find its citations."""
    key = str(path)
    try:
        data = _read_regular_file(path, limits.max_bytes + 1)
    except NotRegularFile as exc:
        return skipped(path, f"not_a_file: {exc}")
    except OSError as exc:
        return skipped(path, f"unreadable: {exc.strerror or exc}")
    truncated = len(data) > limits.max_bytes
    decoded = decode_seed(data[: limits.max_bytes])
    if decoded.text is None:
        row = SeedRow(
            path=key, doc_id=None, sha256=decoded.sha256, bytes=decoded.size, encoding=None,
            status="skipped", reason=decoded.reason, citations=0, rejected_links=0,
        )
        return SeedDocument(row, path.as_uri(), None, (), ())
    scan = scan_seed(decoded.text, path.suffix)
    found = scan.citations + scan.other_schemes
    citations = found[: limits.max_urls]
    reasons = []
    if truncated:
        reasons.append(f"truncated: read the first {limits.max_bytes} bytes")
    if len(found) > limits.max_urls:
        reasons.append(f"url_cap: {len(found) - limits.max_urls} URLs over the cap")
    text = _seed_text(decoded.text, path.suffix)
    passages = split_passages(text, markdown=path.suffix.lower() in (".md", ".markdown"))
    row = SeedRow(
        path=key, doc_id=document_id("seed", key), sha256=decoded.sha256, bytes=decoded.size,
        encoding=decoded.encoding, status="ok", reason="; ".join(reasons) or None,
        citations=len(citations), rejected_links=len(scan.rejected),
    )
    return SeedDocument(row, path.as_uri(), text, passages, citations)


class NotRegularFile(OSError):
    """The path is a FIFO, device, socket or folder: reading it could block or never end."""


def _read_regular_file(path: Path, limit: int) -> bytes:
    """Read at most `limit` bytes of a regular file; refuse FIFOs and devices without blocking."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "folder" if stat.S_ISDIR(mode) else "FIFO, device or socket"
            raise NotRegularFile(kind)
        chunks: list[bytes] = []
        remaining = limit
        while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def skipped(path: Path, reason: str) -> SeedDocument:
    """A seed that could not be used, with the reason."""
    row = SeedRow(
        path=str(path), doc_id=None, sha256=None, bytes=None, encoding=None, status="skipped",
        reason=reason, citations=0, rejected_links=0,
    )
    return SeedDocument(row, path.as_uri(), None, (), ())


def _seed_text(text: str, suffix: str) -> str:
    if suffix.lower() not in (".html", ".htm", ".xhtml"):
        return text
    extracted = extract_html(text)
    return extracted.text if extracted is not None else html_to_text(text).strip()
