"""``cleverfox agent …``: the device's backup agent (agent.md §2).

The group and its options are declared in ``commands`` (which imports click only); each
command imports the agent (``cleverfox.agent``, the SDK's agent transport) when it runs.
Nothing here imports the server.
"""

from __future__ import annotations

import click

from cleverfox.cli.agent.commands import agent


def command(name: str) -> click.Command:
    """The ``agent`` group (``cli.lazy``)."""
    if name != "agent":
        raise KeyError(name)
    return agent
