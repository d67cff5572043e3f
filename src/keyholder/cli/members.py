"""keyholder members …"""

from __future__ import annotations

import typer

from keyholder.accounts import members
from keyholder.accounts.members import AddedMember
from keyholder.accounts.permissions import ordered
from keyholder.cli.common import (
    JsonOption,
    handle_errors,
    operator,
    print_json,
    print_table,
    runtime,
)

app = typer.Typer(help="Members of an enterprise account.", no_args_is_help=True)

AccountOption = typer.Option(..., "--account", "-a", help="The account's name.")
PermissionsOption = typer.Option(
    "view", "--permissions", "-p", help="Comma-separated: view,create,manage,billing."
)


ConfirmOption = typer.Option(
    False, "--confirm", help="Go ahead even though the account is left with one admin."
)
SuccessorOption = typer.Option(
    None,
    "--successor",
    help="When the last admin leaves: the member who gets manage in the same change.",
)


def split(permissions: str) -> list[str]:
    return [p for p in permissions.split(",") if p.strip()]


@app.command("list")
@handle_errors
def list_(account: str = AccountOption, as_json: bool = JsonOption) -> None:
    """List the members of an account."""
    found = members.list_members(runtime().uow(read_only=True), account, actor=operator())
    if as_json:
        # Only --json prints the API's shape: the table needs no pydantic models.
        from keyholder.accounts.schemas import member_out  # noqa: PLC0415

        print_json([member_out(m).model_dump(mode="json") for m in found])
        return
    print_table(
        ["email", "permissions", "since"],
        [(m.user.email, ordered(m.permissions), f"{m.created_at:%Y-%m-%d}") for m in found],
    )


@app.command("add")
@handle_errors
def add(
    email: str,
    account: str = AccountOption,
    permissions: str = PermissionsOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a member, or invite them by email when they have no user yet."""
    added = members.add_member(
        runtime().uow(), account, email, split(permissions), actor=operator()
    )
    _print_added(added, account, as_json=as_json)


def _print_added(added: AddedMember, account: str, *, as_json: bool) -> None:
    from keyholder.accounts.schemas import invitation_out, member_out  # noqa: PLC0415 - see list_()

    if added.membership is not None:
        membership = added.membership
        if as_json:
            print_json(member_out(membership).model_dump(mode="json"))
        else:
            granted = ",".join(ordered(membership.permissions))
            typer.echo(f"added {membership.user.email} to {account} with {granted}")
    elif added.invitation is not None:
        invitation = added.invitation
        if as_json:
            print_json({"invitation": invitation_out(invitation).model_dump(mode="json")})
        else:
            typer.echo(
                f"{invitation.email} has no user yet: invited to {account} with "
                f"{','.join(ordered(invitation.permissions))} "
                f"(expires {invitation.expires_at:%Y-%m-%d})"
            )


@app.command("set")
@handle_errors
def set_(
    email: str,
    account: str = AccountOption,
    permissions: str = typer.Option(..., "--permissions", "-p", help="The complete new set."),
    *,
    confirm: bool = ConfirmOption,
    successor: str | None = SuccessorOption,
    as_json: bool = JsonOption,
) -> None:
    """Replace a member's permissions."""
    membership = members.set_member_permissions(
        runtime().uow(),
        account,
        email,
        split(permissions),
        actor=operator(),
        confirm=confirm,
        successor=successor,
    )
    if as_json:
        from keyholder.accounts.schemas import member_out  # noqa: PLC0415 - see list_()

        print_json(member_out(membership).model_dump(mode="json"))
    else:
        granted = ",".join(ordered(membership.permissions))
        typer.echo(f"{membership.user.email} on {account}: {granted}")


@app.command("remove")
@handle_errors
def remove(
    email: str,
    account: str = AccountOption,
    confirm: bool = ConfirmOption,
    successor: str | None = SuccessorOption,
) -> None:
    """Remove a member from an account."""
    members.remove_member(
        runtime().uow(), account, email, actor=operator(), confirm=confirm, successor=successor
    )
    typer.echo(f"removed {email} from {account}")
