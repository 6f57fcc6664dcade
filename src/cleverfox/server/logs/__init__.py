"""Logs and Log Items: the history of job runs — and missed runs — with snapshots.

Owns the read API (``/api/logs``, ``/api/logitems``: Core rows in wire order, ``reads``,
no ORM objects), the run lifecycle the agent and the server drive (``runs``: start,
finish, missed, stale; ORM, ``repository``), and the single call point for the
job-result mails (``notifications``). History outlives what it describes: a Log keeps plain
ids and its own copy of the settings at run start, and is visible by its ``partner_id``.
"""
