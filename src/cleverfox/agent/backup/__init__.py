"""Backing up one job item, local copies, and restore (the agent's ``backup`` part)."""
