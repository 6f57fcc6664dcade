"""Jobs: a device's scheduled backups.

Owns ``/api/jobs`` (with ``POST …/{JobId}/run``), the schedule calendar (``schedule``) and
how a stored job keeps to it (``rules``): NextRunOn is the device's wall time, ``next_run_utc``
its instant. ``service.recompute_for_device`` settles a device's jobs again after its time
zone changed or it was reactivated.
"""
