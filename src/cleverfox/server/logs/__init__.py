"""Logs and Log Items: the history of job runs — and missed runs — with snapshots.

Owns the read API (``/api/logs``, ``/api/logitems``): Core rows in wire order (``repository``),
no ORM objects, presented by ``schemas``. History outlives what it describes: a Log keeps
plain ids and its own copy of the settings at run start, and is visible by its
``partner_id``. Writing Logs — a run's start and finish, missed and stale runs — is the
``runs`` package's.
"""
