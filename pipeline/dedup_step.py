"""Incremental dedup over the stored corpus: plain functions over the dedup library and store.

Each run signs only documents that are new or whose text changed, probes the stored
band index with them, verifies every candidate on exact shingle sets, then updates the
clusters of the documents whose pairs changed (storage/cluster_store.py).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from dedup import (
    NEAR_DUPLICATE_JACCARD,
    NEAR_REPEAT_JACCARD,
    PASSAGE_PARAMS,
    DocInfo,
    MinHashParams,
    band_keys,
    cluster,
    content_hash,
    shingle_hash_sets,
    signatures,
    verify,
)
from dedup.hashing import U64Array
from dedup.lsh import params_fingerprint
from dedup.verify import DuplicatePair
from pipeline.isolation import Failures, isolate
from pipeline.shingle_cache import ShingleCache
from storage.cluster_store import ClusterStore
from storage.dedup_store import DedupStore, PairRow, SignatureBatch
from storage.outcomes import Step

# Document pairs are verified and stored from this exact Jaccard up, so `dedup_threshold`
# (the views' and clusters' threshold, bounded below by this) can be raised or lowered
# without re-verifying anything.
STORED_PAIR_MIN_JACCARD = 0.5
# Texts read and shingled at once when verifying (about 2.5 MB of text, 10 MB of code points).
_TEXTS_AT_ONCE = 500


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Dedup parameters of a run (the defaults of the run's settings, flows/settings.py).

    `dedup_threshold`: the exact Jaccard from which stored document pairs are shown as
    near-duplicates and clustered; `boilerplate_min_docs`: documents of one site that make
    a passage boilerplate; `dedup_batch`: documents signed and verified at once.
    """

    dedup_threshold: float = NEAR_DUPLICATE_JACCARD
    boilerplate_min_docs: int = 3
    dedup_batch: int = 2000
    params: MinHashParams = field(default_factory=MinHashParams)


def dedup_batch(
    dstore: DedupStore, doc_ids: Sequence[int], params: MinHashParams, now: datetime
) -> tuple[int, int, int]:
    """Sign a batch and verify its pairs in one transaction; return (signed, candidates, pairs).

    One transaction, so a run killed in between never leaves signatures whose pairs were
    not verified (the next run would not sign those documents again).
    """
    return save_and_verify(dstore, sign_batch(dstore.rows_to_sign(doc_ids), params), params, now)


@dataclass(frozen=True, slots=True)
class Signed:
    """A batch's signatures and the shingle sets they were computed from, in doc_ids' order.

    Verification needs the same sets: handing them over saves shingling each new text
    twice (issue 20).
    """

    batch: SignatureBatch
    sets: tuple[U64Array, ...]


def save_and_verify(
    dstore: DedupStore, signed: Signed, params: MinHashParams, now: datetime,
    cache: ShingleCache | None = None,
) -> tuple[int, int, int]:
    """Store computed signatures and verify their pairs in one transaction (see above)."""
    batch = signed.batch
    fresh = dict(zip(batch.doc_ids, signed.sets, strict=True))
    with dstore.transaction():
        dstore.save_signatures(batch, now)
        candidates, pairs = verify_new(dstore, batch.doc_ids, params, now, cache, fresh)
    return len(batch.doc_ids), candidates, pairs


def sign_batch(
    rows: Sequence[tuple[int, str, str]], params: MinHashParams,
    content_hashes: Mapping[str, int] | None = None,
) -> Signed:
    """Signatures and band keys of (doc_id, sha256, text) rows, and their shingle sets:
    pure computation, no store.

    `content_hashes`: `content_hash` of texts by content_sha256, known already (those
    found while storing them); the other rows' are computed.
    """
    known = content_hashes or {}
    sets = shingle_hash_sets([text for _, _, text in rows], params.shingle_size)
    sigs = signatures(sets, params)
    return Signed(SignatureBatch(
        doc_ids=[r[0] for r in rows],
        content_sha256=[r[1] for r in rows],
        norm_content_hashes=[
            found if (found := known.get(sha)) is not None else content_hash(text)
            for _, sha, text in rows
        ],
        shingle_counts=[int(s.size) for s in sets],
        signatures=sigs,
        band_keys=band_keys(sigs, params),
        scheme=params.scheme,
        seed=params.seed,
        shingle_size=params.shingle_size,
        params_fingerprint=params_fingerprint(params),
    ), tuple(sets))


def verify_new(
    dstore: DedupStore, doc_ids: Sequence[int], params: MinHashParams, now: datetime,
    cache: ShingleCache | None = None, fresh: dict[int, U64Array] | None = None,
) -> tuple[int, int]:
    """Verify the candidates and exact duplicates of `doc_ids`; return (candidates, pairs).

    `cache` holds shingle sets of documents verified before (not of `doc_ids`, whose
    text is new), `fresh` the sets of `doc_ids` computed when signing them: only the sets
    neither holds are computed from the stored texts.
    """
    candidates = dstore.candidate_pairs(doc_ids)
    exact = set(dstore.exact_pairs(doc_ids))
    involved = sorted({d for pair in (*candidates, *exact) for d in pair})
    if cache is not None:
        cache.discard(doc_ids)
    signed = {d: s for d in involved if fresh is not None and (s := fresh.get(d)) is not None}
    cached = {d: s for d in involved if d not in signed
              and cache is not None and (s := cache.get(d)) is not None}
    missing = [d for d in involved if d not in signed and d not in cached]
    sets: dict[int, U64Array] = {}
    # In slices: a document with many stored near-duplicates brings all of them, and the
    # batched tokenizer holds 4 bytes per character of every text it is given at once.
    for start in range(0, len(missing), _TEXTS_AT_ONCE):
        texts = dstore.texts(missing[start : start + _TEXTS_AT_ONCE])
        computed = shingle_hash_sets(list(texts.values()), params.shingle_size)
        sets.update(zip(texts, computed, strict=True))
    if cache is not None:
        # The computed sets, then the batch's own (signed) ones, for the batches to come.
        for doc_id, shingles in (*sets.items(), *((d, signed[d]) for d in doc_ids if d in signed)):
            cache.put(doc_id, shingles)
    sets.update(cached)
    sets.update(signed)
    found = verify(candidates, sets, STORED_PAIR_MIN_JACCARD)
    verified = {(p.doc_a, p.doc_b): p.jaccard for p in found}
    for pair in exact:
        verified[pair] = 1.0
    rows = [PairRow(a, b, j, (a, b) in exact) for (a, b), j in sorted(verified.items())]
    dstore.save_pairs(rows, now)
    return len(candidates), len(rows)


def rebuild_clusters(dstore: DedupStore, threshold: float, now: datetime) -> tuple[int, int]:
    """Recompute clusters from all pairs at the threshold; return (clusters, documents)."""
    with dstore.transaction():
        return _rebuild(dstore, ClusterStore(dstore.con), threshold, now)


def _rebuild(
    dstore: DedupStore, clusters: ClusterStore, threshold: float, now: datetime
) -> tuple[int, int]:
    """Replace every cluster with those of all pairs at the threshold; return the totals."""
    pairs = dstore.pairs_at(threshold)
    clusters.replace_all(cluster(pairs, _doc_infos(dstore, pairs)), threshold, now)
    return clusters.totals()


def update_clusters(dstore: DedupStore, threshold: float, now: datetime) -> tuple[int, int]:
    """Re-cluster the components of documents whose pairs or text changed; return the totals.

    The region re-clustered is closed both ways: every document one verified pair at the
    threshold away from it, and every member of a cluster it held before, is in it. So each
    component inside is whole, every old cluster inside is replaced whole, and the clusters
    outside, whose pairs and documents did not change, are what a rebuild would make. (Both
    ends of a removed pair are marked, so the old cluster mates are reached through the
    pairs that remain; reaching them through the old clusters too costs one join and keeps
    the update right should a write ever mark only one end: tests/storage/test_cluster_update.py.)
    Clusters built at another threshold (or never) are rebuilt from every pair.
    """
    clusters = ClusterStore(dstore.con)
    with dstore.transaction():
        if clusters.built_threshold() != threshold:
            return _rebuild(dstore, clusters, threshold, now)
        region = set(frontier := clusters.changed_documents())
        while frontier:
            frontier = sorted(clusters.reach(frontier, threshold) - region)
            region.update(frontier)
        if region:
            pairs = clusters.pairs_of(sorted(region), threshold)
            clusters.replace(sorted(region), cluster(pairs, _doc_infos(dstore, pairs)))
        return clusters.totals()


def _doc_infos(dstore: DedupStore, pairs: Sequence[DuplicatePair]) -> list[DocInfo]:
    """What the canonical rule needs about each document of `pairs`."""
    ids = sorted({d for p in pairs for d in (p.doc_a, p.doc_b)})
    return [DocInfo(f.doc_id, f.first_seen, f.text_chars, f.url) for f in dstore.doc_facts(ids)]


def index_passages(
    dstore: DedupStore, now: datetime, failures: Failures | None = None, batch: int = 5000,
    doc_ids: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Index new distinct passages and verify their near repeats; return (indexed, pairs).

    With `failures`, a batch that fails is split until the passages that fail alone are
    found; those are recorded and left unindexed (the next run tries them again). With
    `doc_ids`, only the passages of those documents (a run indexes each stored batch's, so
    the pass after the last batch finds little left: issue 20).
    """
    params = PASSAGE_PARAMS
    failures = failures if failures is not None else Failures(raise_errors=True)
    indexed = found = 0

    def index(rows: Sequence[tuple[int, str]]) -> int:
        with dstore.transaction():
            return _index_passage_batch(dstore, rows, params, now)

    while rows := dstore.passages_to_index(batch, failures.ids(Step.PASSAGES), doc_ids):
        before = len(failures.ids(Step.PASSAGES))
        done = isolate(rows, index, Step.PASSAGES, lambda row: row[0], failures)
        found += sum(done)
        indexed += len(rows) - (len(failures.ids(Step.PASSAGES)) - before)
    return indexed, found


def _index_passage_batch(
    dstore: DedupStore, rows: Sequence[tuple[int, str]], params: MinHashParams, now: datetime
) -> int:
    """Index one batch of passages and store their verified near repeats; return the pairs."""
    hashes = [h for h, _ in rows]
    sets = shingle_hash_sets([text for _, text in rows], params.shingle_size)
    keys = band_keys(signatures(sets, params), params)
    dstore.save_passage_index(hashes, [int(s.size) for s in sets], keys, now)
    candidates = dstore.passage_candidates(hashes)
    involved = sorted({h for pair in candidates for h in pair})
    texts = dstore.passage_texts(involved)
    shingles = dict(
        zip(texts, shingle_hash_sets(list(texts.values()), params.shingle_size), strict=True)
    )
    verified = verify(candidates, shingles, NEAR_REPEAT_JACCARD)
    pairs = [(p.doc_a, p.doc_b, p.jaccard) for p in verified]
    dstore.save_passage_pairs(pairs, now)
    return len(pairs)
