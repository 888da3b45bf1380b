"""Shingle sets of documents verified earlier in the run, kept for the next batches."""

from collections import OrderedDict
from collections.abc import Iterable

from dedup.hashing import U64Array

# 64 MiB: about 10,000 news articles' 5-gram sets (800 shingles x 8 bytes each).
DEFAULT_MAX_BYTES = 64 * 2**20


class ShingleCache:
    """Least recently used shingle sets by doc id, bounded in bytes.

    Verifying a batch's candidates needs the sets of the stored documents they match;
    a run meets the same stored near-duplicates batch after batch, and computing a set
    means reading and normalizing the whole text again.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._sets: OrderedDict[int, U64Array] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes

    def get(self, doc_id: int) -> U64Array | None:
        """The cached set of `doc_id`, if any (it becomes the most recently used)."""
        found = self._sets.get(doc_id)
        if found is not None:
            self._sets.move_to_end(doc_id)
        return found

    def put(self, doc_id: int, shingles: U64Array) -> None:
        """Cache `doc_id`'s set, evicting the least recently used past the byte bound."""
        self.discard([doc_id])
        self._sets[doc_id] = shingles
        self._bytes += shingles.nbytes
        while self._bytes > self._max_bytes and self._sets:
            _, old = self._sets.popitem(last=False)
            self._bytes -= old.nbytes

    def discard(self, doc_ids: Iterable[int]) -> None:
        """Forget these documents (their text is being signed again)."""
        for doc_id in doc_ids:
            old = self._sets.pop(doc_id, None)
            if old is not None:
                self._bytes -= old.nbytes

    def __len__(self) -> int:
        return len(self._sets)
