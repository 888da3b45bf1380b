"""recite: dedup."""
