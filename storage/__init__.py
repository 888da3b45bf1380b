"""recite: storage."""
