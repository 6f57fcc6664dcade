"""Benchmarks of the CleverFox Backup server (``make bench`` → ``docs/benchmarks.md``).

Each suite starts real server processes over TLS on this machine, drives them with a load
generator in a separate process and writes its own marked section of the results document.
Speed targets are shown here, never with timed assertions in tests. Suites:

- ``api`` (issue 2): requests/s and p50/p99 of GET one company, GET a page of 100 companies
  and POST a company, on SQLite and PostgreSQL, against the ceiling endpoint of the same run.
- ``stacks`` (issue 2): the same server app on each candidate server stack.
- ``logs`` (issue 3): log queries over 1,000,000 Logs and agent check-ins; not written yet.
"""
