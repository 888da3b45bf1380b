"""recite: the plain steps of a run (no Prefect): seeds, batches, dedup, failure isolation, summary."""
