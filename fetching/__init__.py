"""recite: fetching."""
