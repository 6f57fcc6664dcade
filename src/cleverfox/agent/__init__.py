"""The CleverFox Backup agent: runs a device's backup jobs and talks to the server.

It speaks to the server only through ``cleverfox.client`` (the agent transport) and reuses
``cleverfox.storage``'s engine; it never imports ``cleverfox.server`` or ``cleverfox.cli``.
Module map: ``model`` (the types the parts share), ``core`` (config, enrolment, check-in,
schedule, runs, state, service files, progress), ``backup`` (walking, the files cache, the
chunk pipeline, local copies, restore), ``db`` (database dumps).
"""
