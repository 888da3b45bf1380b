"""recite: extractors."""
