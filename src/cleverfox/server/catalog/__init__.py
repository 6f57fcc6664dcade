"""The shared catalogues: Plan Types, Plans, Backup Types and Event Types (read-only)."""
