"""The partner's API commands on ``cleverfox``: one group per resource of the API.

``cleverfox companies list``, ``cleverfox devices rotate-key 7``, ``cleverfox logs list
--job-status Failed --since 24h`` … speak the API through the SDK (``cleverfox.client``), with
credentials from flags, the environment or a profile (``connection``), tables or JSON
(``output``) and exit codes mapped in one place (``exits``). Resource names are plural, so
they never clash with the operator's singular ``partner``/``plan``/``subscription`` commands.
Nothing here imports the server.
"""

from __future__ import annotations

import click

from cleverfox.cli.api.commands import build_group
from cleverfox.cli.api.downloads import download_command
from cleverfox.cli.api.profiles import config
from cleverfox.cli.api.resources import RESOURCES


def command(name: str) -> click.Command:
    """``config`` or the group of the resource ``name`` (``cli.lazy``); only that group is
    built."""
    if name == "config":
        return config
    [resource] = [resource for resource in RESOURCES if resource.name == name]
    group = build_group(resource)
    if resource.name == "log-items":
        group.add_command(download_command())
    return group
