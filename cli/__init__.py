"""recite: the `recite` command line."""
