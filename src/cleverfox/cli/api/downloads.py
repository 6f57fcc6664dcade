"""``cleverfox log-items download``: fetch a backup file, or its list of files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cleverfox.cli.api.commands import api_command
from cleverfox.cli.api.output import Output
from cleverfox.client import Client


def download_command() -> click.Command:
    """The download action of Log Items (its URL works for an hour, without a key)."""

    def work(client: Client, output: Output, values: dict[str, Any]) -> None:
        items = client.log_items
        if values["file_list"]:
            item = items.download_backup_list(values["ident"])
            default = item.backup_list_name
        else:
            item = items.download_backup_file(values["ident"])
            default = item.backup_file_name
        target = Path(values["output"] or default or f"log-item-{values['ident']}.bak")
        size = items.save_download(item, target, resume=values["resume"])
        if output.as_json:
            click.echo(json.dumps({"Path": str(target), "Size": size}))
        output.message(f"Saved {size:,} bytes to {target}.")

    params = [
        click.Argument(["ident"], type=click.INT, metavar="ID"),
        click.Option(
            ["--list", "file_list"],
            is_flag=True,
            help="The list of the files in the backup instead of the backup file.",
        ),
        click.Option(
            ["--output", "-o"],
            type=click.Path(dir_okay=False),
            help="Where to save it (default: the backup's file name, here).",
        ),
        click.Option(
            ["--resume/--no-resume"],
            default=True,
            show_default=True,
            help="Continue a partial file instead of starting again.",
        ),
    ]
    examples = [
        "cleverfox log-items download 901",
        "cleverfox log-items download 901 --list -o files.txt",
    ]
    return api_command(
        "download", "Download the backup file of a log item (or its list).", examples, params, work
    )
