"""Passage hashes for the `passages.norm_hash` column."""

import hashlib
import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def passage_hash(text: str) -> int:
    """Signed 64-bit hash of the passage after case, accent, punctuation and space folding."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    norm = " ".join(_NON_WORD.sub(" ", folded).split())
    return int.from_bytes(hashlib.blake2b(norm.encode(), digest_size=8).digest(), "big", signed=True)
