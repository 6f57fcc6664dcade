"""The agent's core: everything but the backup of an item itself.

- ``config``: the configuration file (``enrol``), its default place per platform, written
  0600 to a temporary name and renamed.
- ``schedule``: which jobs are due, on the server's clock in the device's zone.
- ``state``: the agent's SQLite state in its data folder (runs in progress, last runs, last
  check-in); ``recovery`` finishes runs cut off by a crash as Failed ("interrupted").
- ``runner``: one run (start the Log, each item through ``backup.back_up_item``, finish).
- ``agent``: check in, run what is due one job after another, the service loop.
- ``progress``, ``lock``, ``logfile``, ``service_files``: the live progress (terminal and
  server), the data folder's lock, the rotating log, the systemd/launchd/Windows files.

It talks to the server only through ``cleverfox.client.agent``.
"""
