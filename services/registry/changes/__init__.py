"""Admin writes to the registry: each one checked, versioned and announced (see `flow`)."""
