"""Partners: the caller's own account, its API key and the operator's partner commands."""
