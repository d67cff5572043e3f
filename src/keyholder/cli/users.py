"""keyholder users … and keyholder tokens …"""

from __future__ import annotations

import sys

import typer

from keyholder.cli.common import JsonOption, fail, handle_errors, operator, print_json, runtime
from keyholder.identity import mfa, reset, service, verification
from keyholder.identity.models import StaffRole

users_app = typer.Typer(help="Users and platform staff.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)


def parse_role(value: str | None) -> StaffRole | None:
    if value is None or value.lower() == "none":
        return None
    try:
        return StaffRole(value.lower())
    except ValueError:
        valid = ", ".join(StaffRole)
        fail(f"unknown staff role {value!r}; valid roles are: {valid}, none")


@users_app.command("create")
@handle_errors
def create(
    email: str,
    name: str = typer.Option("", "--name"),
    staff: str | None = typer.Option(None, "--staff", help="agent, reviewer or admin."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create a user (without a password unless --password-stdin)."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    user = service.create_user(
        runtime().uow(),
        email,
        name=name,
        password=password,
        staff_role=parse_role(staff),
        actor=operator(),
        hasher=runtime().password_hasher,
    )
    if as_json:
        print_json(
            {
                "id": str(user.id),
                "email": user.email,
                "name": user.name,
                "staff_role": user.staff_role,
            }
        )
    else:
        role = f" ({user.staff_role})" if user.staff_role else ""
        typer.echo(f"created user {user.email}{role}")


@users_app.command("set-role")
@handle_errors
def set_role(
    email: str, role: str = typer.Argument(..., help="agent, reviewer, admin or none.")
) -> None:
    """Grant, change or remove a platform staff role."""
    user = service.set_staff_role(runtime().uow(), email, parse_role(role), actor=operator())
    typer.echo(f"{user.email}: staff role {user.staff_role or 'none'}")


@users_app.command("reset-link")
@handle_errors
def reset_link(email: str, as_json: bool = JsonOption) -> None:
    """Create a one-time password reset link for a customer; it is shown once, here only."""
    issued = reset.issue_reset_link(runtime().uow(), email, actor=operator())
    if as_json:
        print_json({"link": issued.link, "expires_at": issued.expires_at.isoformat()})
    else:
        typer.echo(issued.link)
        typer.echo(
            f"Give this link to {issued.email} only; it works once and expires at "
            f"{issued.expires_at:%Y-%m-%d %H:%M} UTC.",
            err=True,
        )


@users_app.command("mfa-reset")
@handle_errors
def mfa_reset(email: str) -> None:
    """Turn off a user's MFA (lost device); their sessions and API tokens end too."""
    mfa.reset_mfa(runtime().uow(), email, actor=operator())
    typer.echo(f"multi-factor authentication of {email} is off; they must sign in again")


@users_app.command("verify-link")
@handle_errors
def verify_link(email: str, as_json: bool = JsonOption) -> None:
    """Create a one-time email verification link for an unverified user; shown once, here."""
    issued = verification.issue_verification_link(runtime().uow(), email, actor=operator())
    if as_json:
        print_json({"link": issued.link, "expires_at": issued.expires_at.isoformat()})
    else:
        typer.echo(issued.link)
        typer.echo(
            f"Give this link to {issued.email} only; it works once and expires at "
            f"{issued.expires_at:%Y-%m-%d %H:%M} UTC.",
            err=True,
        )


@tokens_app.command("create")
@handle_errors
def create_token(
    email: str, name: str = typer.Option("", "--name"), as_json: bool = JsonOption
) -> None:
    """Create an API token; it is shown once and only its hash is kept."""
    issued = service.create_api_token(runtime().uow(), email, name=name, actor=operator())
    if as_json:
        print_json({"id": str(issued.record.id), "token": issued.token, "name": issued.record.name})
    else:
        typer.echo(issued.token)
        typer.echo("Store this token now: it cannot be shown again.", err=True)
