"""Tables of the incremental cluster update (migration 100): what changed, what was built.

Clusters are updated from the documents whose pairs or text changed since the last update
(issue 20), not rebuilt from every stored pair each night; these tables carry that state
from the batch that changes a pair to the clusters step, across processes and killed runs.
"""

from storage.schema_parts import Table

CLUSTER_DIRTY = Table(
    "cluster_dirty",
    "One row per document (repeats allowed) whose verified pairs or text changed since the "
    "clusters were last updated; the clusters step re-clusters their components, then empties it.",
    (
        ("doc_id", "BIGINT", "documents.doc_id."),
    ),
)

CLUSTER_STATE = Table(
    "cluster_state",
    "One row per rebuild of the clusters table from every pair (only the latest is kept): "
    "the threshold it was built at. None, or another threshold than the run's: the next "
    "clusters step rebuilds them from every stored pair.",
    (
        ("threshold", "DOUBLE", "dedup_settings.threshold the clusters were built at."),
        ("rebuilt_at", "TIMESTAMPTZ", "When the clusters were last rebuilt from every pair."),
    ),
)

CLUSTER_TABLES = (CLUSTER_DIRTY, CLUSTER_STATE)
