"""The API commands, built from the declarations of ``resources``: ``list``, ``get``,
``create``, ``update``, ``delete`` and the actions of each resource.

Each command parses, makes one SDK call, prints. Every SDK exception leaves through
:func:`api_command`, which turns it into the exit code of ``exits``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from cleverfox.cli.api.connection import connection_params, origins_of, pop_connection, resolve
from cleverfox.cli.api.exits import failure
from cleverfox.cli.api.output import Output
from cleverfox.cli.api.resources import Action, Resource
from cleverfox.cli.api.values import given, options_of
from cleverfox.client import Client
from cleverfox.client.errors import CleverFoxError

Work = Callable[[Client, Output, dict[str, Any]], None]
"""What a command does once connected: the client, where to print, its option values."""

DUPLICATE_PREVENTION_HELP = (
    "Duplicate-prevention Token (at most 50 characters): the same command run again with "
    "the same Token is not applied twice, and prints the object the first run made."
)


def build_group(resource: Resource) -> click.Group:
    """The command group of one resource."""
    group = click.Group(resource.name, help=f"{resource.summary}\n\nSee '<command> --help'.")
    commands = [list_command(resource), get_command(resource)]
    if resource.create is not None:
        commands.append(create_command(resource, resource.create))
    if resource.update is not None:
        commands.append(update_command(resource, resource.update))
    if resource.deletable:
        commands.append(delete_command(resource))
    commands.extend(action_command(resource, action) for action in resource.actions)
    for command in commands:
        group.add_command(command)
    return group


def api_command(
    name: str,
    summary: str,
    examples: Sequence[str],
    params: Sequence[click.Parameter],
    work: Work,
) -> click.Command:
    """A command that connects (flags, environment, profile), runs ``work`` and closes;
    an SDK exception becomes a one-line failure with the exit code ``exits`` maps it to."""

    def callback(**values: Any) -> None:
        origins = origins_of(click.get_current_context())
        connection = resolve(pop_connection(values), origins=origins)
        output = Output(as_json=bool(values.pop("as_json")))
        try:
            with connection.client() as client:
                work(client, output, values)
        except CleverFoxError as error:
            raise failure(error, connection) from error

    common = [
        click.Option(
            ["--json", "as_json"],
            is_flag=True,
            help="Print JSON (a listing: one object per line) instead of a table.",
        ),
        *connection_params(),
    ]
    lines = "\n".join(f"  {example}" for example in examples)
    return click.Command(
        name,
        callback=callback,
        params=[*params, *common],
        help=f"{summary}\n\n\b\nExamples:\n{lines}",
        short_help=summary.split(";")[0].split(". ")[0].rstrip("."),
    )


def _namespace(client: Client, resource: Resource) -> Any:
    return getattr(client, resource.namespace)


def _id_argument(resource: Resource) -> click.Argument:
    kind = click.INT if resource.id_type is int else click.STRING
    return click.Argument(["ident"], type=kind, metavar="ID")


def _example(resource: Resource, *rest: str) -> str:
    return " ".join(("cleverfox", resource.name, *(part for part in rest if part)))


def list_command(resource: Resource) -> click.Command:
    filters = options_of(resource.filters, enforce_required=False)
    names = [str(option.name) for option in filters]
    limit = click.Option(
        ["--limit"], type=click.IntRange(min=0), help="Stop after this many objects."
    )

    def work(client: Client, output: Output, values: dict[str, Any]) -> None:
        found = _namespace(client, resource).list(limit=values["limit"], **given(values, names))
        output.listing(found, resource.columns, resource.name.replace("-", " "))

    examples = [
        _example(resource, "list"),
        *(_example(resource, "list", e) for e in resource.list_examples),
    ]
    examples.append(_example(resource, "list --limit 10 --json"))
    return api_command(
        "list",
        f"List {resource.name.replace('-', ' ')}, newest first.",
        examples,
        [*filters, limit],
        work,
    )


def get_command(resource: Resource) -> click.Command:
    def work(client: Client, output: Output, values: dict[str, Any]) -> None:
        output.element(_namespace(client, resource).get(values["ident"]))

    sample = '"Eastern Standard Time"' if resource.id_type is str else "42"
    return api_command(
        "get",
        f"Show one {resource.singular}.",
        [_example(resource, "get", sample), _example(resource, "get", sample, "--json")],
        [_id_argument(resource)],
        work,
    )


def _token_option() -> click.Option:
    return click.Option(["--token"], help=DUPLICATE_PREVENTION_HELP)


def create_command(resource: Resource, attributes: type) -> click.Command:
    optional = frozenset(resource.from_partner)
    options = options_of(attributes, enforce_required=True, optional=optional)
    names = [str(option.name) for option in options]

    def work(client: Client, output: Output, values: dict[str, Any]) -> None:
        chosen = given(values, names)
        _fill_from_partner(client, chosen, resource.from_partner)
        made = _namespace(client, resource).create(token=values["token"], **chosen)
        output.message(f"Created {resource.singular} {made.id}.")
        output.element(made)

    summary = f"Create a {resource.singular}."
    if resource.from_partner:
        summary += f" {_options_text(resource.from_partner)} default to your partner's."
    examples = [_example(resource, "create", resource.create_example)]
    return api_command("create", summary, examples, [*options, _token_option()], work)


def _options_text(names: Sequence[str]) -> str:
    return " and ".join("--" + name.replace("_", "-") for name in names)


def _fill_from_partner(client: Client, chosen: dict[str, Any], names: Sequence[str]) -> None:
    missing = [name for name in names if name not in chosen]
    if missing:
        partner = next(iter(client.partners.list(limit=1)))
        chosen.update({name: getattr(partner, name) for name in missing})


def update_command(resource: Resource, attributes: type) -> click.Command:
    options = options_of(attributes, enforce_required=False)
    names = [str(option.name) for option in options]

    def work(client: Client, output: Output, values: dict[str, Any]) -> None:
        changes = given(values, names)
        if not changes:
            raise click.UsageError("nothing to change: give at least one attribute option")
        changed = _namespace(client, resource).update(
            values["ident"], token=values["token"], **changes
        )
        output.message(f"Updated {resource.singular} {changed.id}.")
        output.element(changed)

    examples = [
        _example(
            resource,
            "update",
            "42",
            '--name "New name"' if "name" in names else f"--{names[0].replace('_', '-')} …",
        )
    ]
    return api_command(
        "update",
        f"Change the attributes given of a {resource.singular}; "
        'an empty value ("") clears an optional one.',
        examples,
        [_id_argument(resource), *options, _token_option()],
        work,
    )


def delete_command(resource: Resource) -> click.Command:
    def work(client: Client, output: Output, values: dict[str, Any]) -> None:
        gone = _namespace(client, resource).delete(values["ident"])
        output.message(f"Deleted {resource.singular} {gone.id}.")
        if output.as_json:
            output.element(gone)

    return api_command(
        "delete",
        f"Delete a {resource.singular} (--json: as it was).",
        [_example(resource, "delete", "42")],
        [_id_argument(resource)],
        work,
    )


def action_command(resource: Resource, action: Action) -> click.Command:
    def work(client: Client, output: Output, values: dict[str, Any]) -> None:
        method = getattr(_namespace(client, resource), action.method)
        result = method(values["ident"], token=values["token"])
        output.message(action.done.format(id=result.id))
        output.element(result)

    examples = [
        _example(resource, action.command, "42"),
        _example(resource, action.command, "42", "--json"),
    ]
    return api_command(
        action.command, action.summary, examples, [_id_argument(resource), _token_option()], work
    )
