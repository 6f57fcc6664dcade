"""The partner's API commands on ``cleverfox``: one group per resource of the API.

``cleverfox companies list``, ``cleverfox devices rotate-key 7``, ``cleverfox logs list
--job-status Failed --since 24h`` … speak the API through the SDK (``cleverfox.client``), with
credentials from flags, the environment or a profile (``connection``), tables or JSON
(``output``) and exit codes mapped in one place (``exits``). Resource names are plural, so
they never clash with the operator's singular ``partner``/``plan``/``subscription`` commands.
"""

from __future__ import annotations

import click

from cleverfox.cli.api.commands import build_group
from cleverfox.cli.api.downloads import download_command
from cleverfox.cli.api.profiles import config
from cleverfox.cli.api.resources import RESOURCES


def register_api_commands(cli: click.Group) -> None:
    """Add ``config`` and one group per resource to the root command."""
    cli.add_command(config)
    for resource in RESOURCES:
        group = build_group(resource)
        if resource.name == "log-items":
            group.add_command(download_command())
        cli.add_command(group)
