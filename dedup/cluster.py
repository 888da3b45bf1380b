"""Clusters of near-duplicate documents, joined through verified pairs only.

Documents are joined by union-find over the *verified* pairs of
`dedup.verify` (never over raw LSH candidates, so no cluster grows through a
chain of unverified matches). A cluster is a connected component of the
verified-pair graph.

Canonical document of a cluster: the minimum of the key
``(first_seen, -text_length, url, doc_id)``, that is

1. the **earliest first-seen** time: the first capture of a story is the
   best guess at the original, and later copies are republications;
2. then the **longest text**: of two captures seen together, the longer one
   keeps more (the other is usually truncated or stripped of a paragraph);
3. then the **smallest URL** (string order): a tie-break that depends on the
   document, not on ids, so the choice is the same when the same pages are
   ingested in another order or into a fresh database;
4. then the **smallest doc_id**, so the key is total and the result never
   depends on input order.

The cluster id is the canonical document's id. It stays the same across
runs as long as the canonical document does (new, later-seen copies joining
a cluster do not change it); it changes only when a document that wins the
rule above joins, or when two clusters merge.

All ``first_seen`` values must be comparable: all timezone-aware (UTC, as
stored) or all naive; Python refuses to compare the two kinds.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dedup.verify import DuplicatePair


@dataclass(frozen=True, slots=True)
class DocInfo:
    """What the canonical rule needs to know about a document."""

    doc_id: int
    first_seen: datetime
    text_length: int
    url: str


@dataclass(frozen=True, slots=True)
class ClusterMember:
    """A document's membership in a near-duplicate cluster (cluster_id = canonical doc id)."""

    doc_id: int
    cluster_id: int
    canonical_doc_id: int
    is_canonical: bool


def canonical_key(doc: DocInfo) -> tuple[datetime, int, str, int]:
    """Return the sort key whose minimum is a cluster's canonical document."""
    return (doc.first_seen, -doc.text_length, doc.url, doc.doc_id)


class _UnionFind:
    """Disjoint sets over arbitrary int ids, with path halving and union by size."""

    __slots__ = ("_parent", "_size")

    def __init__(self) -> None:
        """Start with no elements; `find` adds an element on first sight."""
        self._parent: dict[int, int] = {}
        self._size: dict[int, int] = {}

    def find(self, x: int) -> int:
        """Return the representative of x's set."""
        parent = self._parent
        if x not in parent:
            parent[x] = x
            self._size[x] = 1
            return x
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def elements(self) -> list[int]:
        """Return every element seen so far."""
        return list(self._parent)

    def union(self, x: int, y: int) -> None:
        """Merge the sets of x and y."""
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return
        if self._size[rx] < self._size[ry]:
            rx, ry = ry, rx
        self._parent[ry] = rx
        self._size[rx] += self._size[ry]


def cluster(
    pairs: Iterable[DuplicatePair],
    docs: Iterable[DocInfo],
    include_singletons: bool = False,
) -> list[ClusterMember]:
    """Group documents joined by verified pairs; return members sorted by (cluster_id, doc_id)."""
    info: dict[int, DocInfo] = {}
    for doc in docs:
        if doc.doc_id in info and info[doc.doc_id] != doc:
            raise ValueError(f"conflicting DocInfo records for doc {doc.doc_id}")
        info[doc.doc_id] = doc
    forest = _UnionFind()
    for pair in pairs:
        for doc_id in (pair.doc_a, pair.doc_b):
            if doc_id not in info:
                raise ValueError(f"pair {pair} names doc {doc_id}, which has no DocInfo")
        forest.union(pair.doc_a, pair.doc_b)
    if include_singletons:
        for doc_id in info:
            forest.find(doc_id)
    components: dict[int, list[int]] = {}
    for doc_id in forest.elements():
        components.setdefault(forest.find(doc_id), []).append(doc_id)
    members: list[ClusterMember] = []
    for component in components.values():
        canonical = min((info[d] for d in component), key=canonical_key).doc_id
        members.extend(
            ClusterMember(doc_id, canonical, canonical, doc_id == canonical) for doc_id in component
        )
    members.sort(key=lambda m: (m.cluster_id, m.doc_id))
    return members
