"""keyholder accounts …"""

from __future__ import annotations

import typer

from keyholder.accounts import service
from keyholder.accounts.models import ContactKind
from keyholder.accounts.schemas import account_out
from keyholder.accounts.service import ContactInput
from keyholder.cli.common import (
    JsonOption,
    fail,
    handle_errors,
    operator,
    print_json,
    print_table,
    runtime,
)

app = typer.Typer(help="Enterprise accounts.", no_args_is_help=True)


def parse_contact(value: str) -> ContactInput:
    parts = value.split(":")
    if len(parts) != 4 or not all(part.strip() for part in parts):
        fail(
            f"--contact {value!r}: use KIND:NAME:TITLE:EMAIL, "
            "e.g. executive:Ada Li:CEO:ada@acme.example"
        )
    kind, name, title, email = (part.strip() for part in parts)
    try:
        return ContactInput(ContactKind(kind.lower()), name, title, email)
    except ValueError:
        valid = ", ".join(k.value for k in ContactKind)
        fail(f"--contact {value!r}: unknown kind {kind!r}; valid kinds are: {valid}")


@app.command("create")
@handle_errors
def create(
    name: str,
    *,
    contract: str = typer.Option(..., "--contract", help="Contract number, e.g. ENT-2024-001234."),
    display_name: str | None = typer.Option(None, "--display-name"),
    domain: list[str] = typer.Option([], "--domain", help="A verified domain (repeatable)."),
    contact: list[str] = typer.Option(
        [], "--contact", help="KIND:NAME:TITLE:EMAIL, kind billing|security|executive (repeatable)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create an enterprise account."""
    account = service.create_account(
        runtime().uow(),
        name=name,
        contract_number=contract,
        display_name=display_name,
        domains=domain,
        contacts=[parse_contact(c) for c in contact],
        actor=operator(),
    )
    if as_json:
        print_json(account_out(account).model_dump(mode="json"))
    else:
        typer.echo(f"created account {account.name} (contract {account.contract_number})")


@app.command("list")
@handle_errors
def list_(as_json: bool = JsonOption) -> None:
    """List enterprise accounts."""
    accounts = service.list_accounts(runtime().uow(read_only=True), actor=operator())
    if as_json:
        print_json([account_out(a).model_dump(mode="json") for a in accounts])
        return
    print_table(
        ["name", "display name", "contract", "domains"],
        [
            (a.name, a.display_name, a.contract_number, [d.domain for d in a.domains])
            for a in accounts
        ],
    )


@app.command("show")
@handle_errors
def show(name: str, as_json: bool = JsonOption) -> None:
    """Show one enterprise account with its domains and contacts."""
    account = service.get_account(runtime().uow(read_only=True), name, actor=operator())
    if as_json:
        print_json(account_out(account).model_dump(mode="json"))
        return
    typer.echo(f"name:          {account.name}")
    typer.echo(f"display name:  {account.display_name}")
    typer.echo(f"contract:      {account.contract_number}")
    typer.echo(f"created:       {account.created_at:%Y-%m-%d %H:%M:%S} UTC")
    for domain in account.domains:
        state = "verified" if domain.verified_at else "unverified"
        typer.echo(f"domain:        {domain.domain} ({state})")
    for c in account.contacts:
        typer.echo(f"contact:       {c.kind}: {c.name}, {c.title} <{c.email}>")
