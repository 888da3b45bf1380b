"""The dedup step of a run, shared by the `ingest` and `reextract` flows (Prefect tasks).

Each part is isolated (pipeline/isolation.py): a document or passage that makes its step
fail is set aside and recorded, the rest is done, and the run publishes.
"""

from collections.abc import Sequence

from dedup.lsh import params_fingerprint
from flows.faults import checkpoint
from flows.tasks import dedup_batch, dedup_clusters, dedup_passages, unwalked
from pipeline.dedup_step import DedupConfig
from pipeline.isolation import Failures, guarded, isolate
from pipeline.steps import BatchReport
from pipeline.summary import Tally
from storage.dedup_store import DedupStore
from storage.outcomes import Step


def run_dedup(dstore: DedupStore, config: DedupConfig, tally: Tally, failures: Failures) -> None:
    """Sign new or changed documents, verify their pairs, update clusters, find repeats."""
    dstore.set_settings(config.dedup_threshold, config.boilerplate_min_docs)
    failed = failures.ids(Step.DEDUP)  # tried in this run already: the next run tries again
    pending = [
        d for d in dstore.documents_to_index(params_fingerprint(config.params)) if d not in failed
    ]

    def sign(ids: Sequence[int]) -> BatchReport:
        return dedup_batch(dstore, ids, config.params)

    size = config.dedup_batch
    for start in range(0, len(pending), size):
        for report in isolate(pending[start : start + size], sign, Step.DEDUP, int, failures):
            tally.add(report)
        checkpoint("dedup-batch")
    clusters = guarded(lambda: dedup_clusters(dstore, config.dedup_threshold), Step.CLUSTERS, failures)
    if clusters is not None:
        tally.add(clusters)
    checkpoint("clusters")
    tally.add(dedup_passages(dstore, unwalked(failures)))
    checkpoint("passages")
