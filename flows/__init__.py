"""recite: flows."""
