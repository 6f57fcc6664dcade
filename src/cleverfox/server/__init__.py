"""The CleverFox Backup API server: one package per resource family, plumbing in ``kit``."""
