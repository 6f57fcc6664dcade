"""Job Items: what a job backs up — a folder, or a database (SQL Server, PostgreSQL, MySQL,
SQLite) — with the conditional rules of each backup type (``rules``) and write-only
credentials stored encrypted with the server's secret (``kit.secrets.ServerSecret``)."""
