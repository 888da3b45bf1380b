"""The pages of a benchmark corpus directory, and their main texts (shared by the benchmarks)."""

import gzip
from pathlib import Path

import trafilatura


def page_paths(corpus: Path, limit: int | None = None) -> list[Path]:
    """The ``*.html.gz`` / ``*.html`` files under `corpus`, sorted, at most `limit`."""
    return sorted([*corpus.rglob("*.html.gz"), *corpus.rglob("*.html")])[:limit]


def page_html(path: Path) -> bytes:
    """The HTML bytes of one corpus file, gunzipped if it is ``.gz``."""
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def load_texts(corpus: Path, limit: int | None) -> list[str]:
    """Extract the main text of every page under `corpus` (pages without one are skipped)."""
    texts: list[str] = []
    for path in page_paths(corpus, limit):
        doc = trafilatura.bare_extraction(page_html(path), with_metadata=True, deduplicate=False)
        text = getattr(doc, "text", None) if doc is not None else None
        if text:
            texts.append(text)
    return texts
