"""A job's runs: the agent starts and finishes them; the server records the missed ones and
fails the stale ones.

A run is a Log, written when it starts (``Running``) or is found missed (``Missed``) with a
snapshot of the job's, device's and plan's settings, and finished once (``Completed`` or
``Failed``; the same finish again changes nothing). ``service`` holds the rules (start,
finish, missed, stale; the 409s; NextRunOn), ``repository`` the rows they lock (the job's,
then the log's), ``schemas`` the agent's bodies, ``notifications`` the job-result mails,
``endpoints`` the agent's calls (``POST /api/agent/logs``, ``PUT /api/agent/logs/{LogId}``).
The duties ``duties.missed_jobs`` and ``duties.stale_logs`` drive the server's side.

What storage adds to a run belongs here too: the agent's uploads of a run's files
(``chunks/missing``, ``packs``, ``logs/{LogId}/files``) and retention (CloudKeepLast) when a
run finishes. Reading Logs (``/api/logs``, ``/api/logitems``) is the ``logs`` package's.
"""
