"""Clustering: verified pairs only, deterministic canonical choice."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from dedup.cluster import ClusterMember, DocInfo, cluster
from dedup.verify import DuplicatePair

T0 = datetime(2022, 1, 1, tzinfo=UTC)


def _doc(doc_id: int, hours: int = 0, length: int = 100, url: str = "") -> DocInfo:
    return DocInfo(doc_id, T0 + timedelta(hours=hours), length, url or f"https://x.test/{doc_id}")


def test_components_and_canonical() -> None:
    docs = [_doc(1, 5), _doc(2, 1), _doc(3, 3), _doc(4, 0), _doc(5, 2)]
    pairs = [DuplicatePair(1, 2, 0.9), DuplicatePair(2, 3, 0.85), DuplicatePair(4, 5, 1.0)]
    members = cluster(pairs, docs)
    assert members == [
        ClusterMember(1, 2, 2, False),
        ClusterMember(2, 2, 2, True),
        ClusterMember(3, 2, 2, False),
        ClusterMember(4, 4, 4, True),
        ClusterMember(5, 4, 4, False),
    ]


def test_deterministic_under_input_permutation() -> None:
    rng = random.Random(7)
    docs = [
        _doc(i, rng.randrange(3), rng.randrange(50, 60), f"https://s{rng.randrange(3)}/")
        for i in range(60)
    ]
    pairs = [
        DuplicatePair(a, b, 0.9)
        for a, b in {tuple(sorted(rng.sample(range(60), 2))) for _ in range(45)}
    ]
    expected = cluster(pairs, docs)
    for _ in range(20):
        rng.shuffle(docs)
        rng.shuffle(pairs)
        assert cluster(pairs, docs) == expected


@pytest.mark.parametrize(
    ("docs", "canonical"),
    [
        # earliest first-seen wins, even if shorter
        ([_doc(1, 2, 900), _doc(2, 1, 10)], 2),
        # same time: the longest text wins
        ([_doc(1, 0, 10), _doc(2, 0, 900)], 2),
        # same time and length: the smallest URL wins, whatever the ids
        ([_doc(1, 0, 10, "https://b.test/"), _doc(2, 0, 10, "https://a.test/")], 2),
        # all equal: the smallest doc id
        ([_doc(2, 0, 10, "u"), _doc(1, 0, 10, "u")], 1),
    ],
)
def test_canonical_rule(docs: list[DocInfo], canonical: int) -> None:
    members = cluster([DuplicatePair(1, 2, 0.9)], docs)
    assert {m.canonical_doc_id for m in members} == {canonical}
    assert {m.cluster_id for m in members} == {canonical}
    assert [m.doc_id for m in members if m.is_canonical] == [canonical]


def test_singletons_only_on_request() -> None:
    docs = [_doc(1), _doc(2), _doc(3)]
    pairs = [DuplicatePair(1, 2, 0.9)]
    assert {m.doc_id for m in cluster(pairs, docs)} == {1, 2}
    with_singletons = cluster(pairs, docs, include_singletons=True)
    assert ClusterMember(3, 3, 3, True) in with_singletons


def test_pair_with_unknown_document_is_an_error() -> None:
    with pytest.raises(ValueError, match="no DocInfo"):
        cluster([DuplicatePair(1, 99, 0.9)], [_doc(1)])


def test_no_pairs_no_clusters() -> None:
    assert cluster([], [_doc(1)]) == []
