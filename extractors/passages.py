"""Split a document's text into passages (paragraphs), in order."""

import itertools
import re

from extractors.records import Passage

_BLANK = re.compile(r"\n\s*\n")
_BLOCK_ITEM = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\d+[.)]\s|>)")
_HEADING = re.compile(r"^#{1,6}\s")
# Hard-wrapped plain text (e-mail style, RFC 3676 suggests 78 columns) keeps its lines
# under about this width; prose written one paragraph per line has much longer lines.
_MAX_WRAP_WIDTH = 120
_WRAPPED_SHARE = 0.6


def split_passages(text: str, *, markdown: bool = False) -> tuple[Passage, ...]:
    """Paragraphs of `text`: lines, or blank-line blocks when the text is hard-wrapped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if markdown or looks_hard_wrapped(text):
        pieces = [p for block in _BLANK.split(text) for p in _unwrap_block(block)]
    else:
        pieces = text.split("\n")
    cleaned = (" ".join(piece.split()) for piece in pieces)
    return tuple(Passage(i, p) for i, p in enumerate(p for p in cleaned if p))


def looks_hard_wrapped(text: str) -> bool:
    """True when most lines that continue a paragraph fill a column below the wrap width."""
    lines = [line.rstrip() for line in text.split("\n")]
    widths = [len(line) for line in lines if line.strip()]
    if not widths or max(widths) > _MAX_WRAP_WIDTH:
        return False
    width = max(widths)
    # A line followed by another non-blank line is a wrapped line if it is near the width.
    continued = [
        len(a) for a, b in itertools.pairwise(lines) if a.strip() and b.strip()
    ]
    if not continued:
        return False
    full = sum(1 for w in continued if w >= width * 0.7)
    return full / len(continued) >= _WRAPPED_SHARE


def _unwrap_block(block: str) -> list[str]:
    """Join a block's wrapped lines, keeping Markdown headings and list items apart."""
    # Lines are gathered per passage and joined once: appending to a growing string
    # copies it each time, quadratic in a block of many lines (issue 17).
    out: list[list[str]] = []
    for line in block.split("\n"):
        if out and line.strip() and not _BLOCK_ITEM.match(line) and not _HEADING.match(out[-1][0]):
            out[-1].append(line.strip())
        else:
            out.append([line.strip()])
    return [" ".join(lines) for lines in out]
