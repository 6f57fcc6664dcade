"""Background duties: work the server does on its own, on a cadence, in every process.

``runner.DutyRunner`` runs in each server process (a thread started and stopped by the
app's lifespan) and calls each registered ``Duty`` every ``interval`` seconds, each call
one transaction. Exactly once across processes sharing a database: on PostgreSQL each
call first takes ``pg_try_advisory_xact_lock(<duty's lock id>)`` and skips the round when
another process holds it, and duties claim rows with ``FOR UPDATE SKIP LOCKED``; on
SQLite the write transaction's ``BEGIN IMMEDIATE`` serialises the processes.
``registry.server_duties`` lists the duties (missed jobs, stale Running logs, devices
going offline, the mail outbox, expired request Tokens).
"""
