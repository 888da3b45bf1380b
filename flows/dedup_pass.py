"""The dedup step of a run, shared by the `ingest` and `reextract` flows (Prefect tasks)."""

from dedup.lsh import params_fingerprint
from flows.dedup_step import DedupConfig
from flows.faults import checkpoint
from flows.summary import Tally
from flows.tasks import dedup_batch, dedup_clusters, dedup_passages
from storage.dedup_store import DedupStore


def run_dedup(dstore: DedupStore, config: DedupConfig, tally: Tally) -> None:
    """Sign new or changed documents, verify their pairs, rebuild clusters, find repeats."""
    dstore.set_settings(config.threshold, config.boilerplate_min_docs)
    pending = dstore.documents_to_index(params_fingerprint(config.params))
    for start in range(0, len(pending), config.batch):
        tally.add(dedup_batch(dstore, pending[start : start + config.batch], config.params))
        checkpoint("dedup-batch")
    tally.add(dedup_clusters(dstore, config.threshold))
    checkpoint("clusters")
    tally.add(dedup_passages(dstore))
    checkpoint("passages")
