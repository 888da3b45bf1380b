"""recite: deployments."""
