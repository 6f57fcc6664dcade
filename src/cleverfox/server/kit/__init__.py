"""Shared plumbing of the server: database, wire rules, errors, auth, events, tokens."""
