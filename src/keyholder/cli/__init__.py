"""The ``keyholder`` command: operators' interface to the same services as the API.

Commands get their Runtime from ``cli.common.runtime()``: the one passed in as
the context object (``app(obj=runtime)``, as tests do), else one built from the
``KEYHOLDER_*`` environment.

This module imports no command: each command group's module (with the
services, SQLAlchemy and pydantic it needs) is imported when that group runs,
so ``keyholder --help`` lists them from ``COMMANDS`` below and ``keyholder
members list`` loads only ``keyholder.cli.members`` (issue 16: a CLI that
starts fast). ``tests/cli/test_start_up.py`` checks the help texts against the
modules'.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

import typer
from typer import _click as click  # typer's own copy of click: TyperGroup's methods take its types
from typer.core import TyperCommand, TyperGroup


class LoadedLater(TyperCommand):
    """Stands in for a command until it runs: its name and one-line help, for ``--help``."""

    def __init__(self, name: str, module: str, attribute: str, help_line: str) -> None:
        super().__init__(name, help=help_line)
        self.module = module
        self.attribute = attribute

    def load(self) -> click.Command:
        module = importlib.import_module(self.module)
        if self.attribute:  # a command group: the module's Typer of that name
            group = typer.main.get_group(getattr(module, self.attribute))
            group.name = self.name
            return group
        return typer.main.get_group(module.app).commands[self.name or ""]  # a top-level command

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # Click runs the command its context names: the real one, loaded now.
        return self.load().make_context(info_name, args, parent=parent, **extra)


# name: (module, its Typer holding the group, or "" for a command of its `app`, help line).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": (
        "keyholder.cli.run",
        "",
        "Load demo accounts, members and staff (idempotent; KEYHOLDER_ENV=development only).",
    ),
    "serve": (
        "keyholder.cli.run",
        "",
        "Serve the API (with an in-process mail relay unless KEYHOLDER_RELAY_IN_PROCESS=false).",
    ),
    "worker": (
        "keyholder.cli.run",
        "",
        "Run the mail relay and the background jobs (as many workers as you like, side by side).",
    ),
    "db": ("keyholder.cli.db", "app", "Database schema."),
    "users": ("keyholder.cli.users", "users_app", "Users and platform staff."),
    "tokens": ("keyholder.cli.users", "tokens_app", "API tokens."),
    "accounts": ("keyholder.cli.accounts", "app", "Enterprise accounts."),
    "members": ("keyholder.cli.members", "app", "Members of an enterprise account."),
    "tickets": ("keyholder.cli.desk", "app", "Support tickets."),
    "access-requests": ("keyholder.cli.access", "app", "Admin-access requests."),
    "audit": ("keyholder.cli.audit", "app", "The tamper-evident audit log."),
    "mail": ("keyholder.cli.mail", "app", "Outgoing email, and support mail coming in."),
    "letters": ("keyholder.cli.letters", "app", "Letter pre-screening."),
    "keys": ("keyholder.cli.keys", "app", "Encryption keys of secrets at rest."),
    "webhooks": (
        "keyholder.cli.webhooks",
        "app",
        "Webhook endpoints: signed deliveries of events (Standard Webhooks).",
    ),
    "scim": (
        "keyholder.cli.scim",
        "app",
        "SCIM 2.0 provisioning: the tokens of an account's endpoint.",
    ),
}


class _CommandsLoadedLater(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            return LoadedLater(cmd_name, *COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)


def _remember_context(ctx: typer.Context) -> None:
    """The app's callback: lets runtime() find this invocation's context object."""
    from keyholder.cli.common import remember_context  # noqa: PLC0415 - see the docstring

    remember_context(ctx)


app = typer.Typer(
    cls=_CommandsLoadedLater,
    help="Keyholder: enterprise accounts, their admins, and reviewed recovery of admin access.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    callback=_remember_context,
)


def main() -> None:
    try:
        app(prog_name="keyholder")
    finally:
        # At exit the interpreter's last collection walks every object the
        # imports made (SQLAlchemy, pydantic, the mappers): 0.1-0.2 s of a
        # 0.6 s `members list`. Frozen objects are left out of it; nothing
        # needs it by then, since connections, files and the outbox are closed
        # or committed explicitly. See benchmarks/README.md, "CLI start".
        gc.freeze()
