"""Operator commands (operator-cli.md): serve, demo, db, partner, plantype, plan,
subscription, secret, storage.

``context`` holds what they share: the setting options and the one validated ``Settings``
each command gets in ``ctx.obj``. ``serve``, ``admin``, ``secret`` and ``storage`` hold the
commands and import ``context``, never each other; ``failures`` turns the server's typed errors
into the one line ``cleverfox.cli.main`` prints. Each command parses, calls one function,
prints: ``--json`` prints the result as JSON on stdout; a failure prints one line on stderr and
exits non-zero. These modules import the server; the root (``cli.main``) imports them only
when one of their commands runs.
"""
