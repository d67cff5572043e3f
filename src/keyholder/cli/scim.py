"""keyholder scim …: bearer tokens of an account's SCIM endpoint (docs/scim.md).

The services are imported in each command, not here: ``keyholder --help``
and the other groups start without them (issue 16).
"""

from __future__ import annotations

import uuid

import typer

from keyholder.cli.common import (
    JsonOption,
    fail,
    handle_errors,
    operator,
    print_json,
    print_table,
    runtime,
)

app = typer.Typer(
    help="SCIM 2.0 provisioning: the tokens of an account's endpoint.", no_args_is_help=True
)
tokens = typer.Typer(
    help="Bearer tokens of an account's SCIM endpoint (/scim/v2/ACCOUNT).", no_args_is_help=True
)
app.add_typer(tokens, name="tokens")


@tokens.command("create")
@handle_errors
def create_token(
    account: str,
    name: str = typer.Option("", "--name", help="What the token is for (okta, entra…)."),
    as_json: bool = JsonOption,
) -> None:
    """Create a token for ACCOUNT's SCIM endpoint; it is shown once, only its hash is kept."""
    from keyholder.scim.tokens import create_scim_token  # noqa: PLC0415 - start time

    issued = create_scim_token(runtime().uow(), account, name=name, actor=operator())
    if as_json:
        print_json(
            {
                "id": str(issued.record.id),
                "account": account,
                "name": issued.record.name,
                "token": issued.token,
            }
        )
        return
    typer.echo(issued.token)
    typer.echo(
        f"Store this token now: it cannot be shown again. SCIM base URL: "
        f"{runtime().settings.base_url.rstrip('/')}/scim/v2/{account}",
        err=True,
    )


@tokens.command("list")
@handle_errors
def list_tokens(account: str, as_json: bool = JsonOption) -> None:
    """ACCOUNT's SCIM tokens, revoked ones too (never the tokens themselves)."""
    from keyholder.scim.tokens import list_scim_tokens  # noqa: PLC0415 - start time

    found = list_scim_tokens(runtime().uow(read_only=True), account, actor=operator())
    rows = [
        {
            "id": str(t.id),
            "name": t.name,
            "created_at": t.created_at.isoformat(),
            "created_by": t.created_by,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        }
        for t in found
    ]
    if as_json:
        print_json(rows)
        return
    print_table(
        ["id", "name", "created_at", "created_by", "revoked_at"],
        [list(row.values()) for row in rows],
    )


@tokens.command("revoke")
@handle_errors
def revoke_token(token_id: str, as_json: bool = JsonOption) -> None:
    """Revoke a SCIM token by its id (from `list`): its next request is refused."""
    from keyholder.scim.tokens import revoke_scim_token  # noqa: PLC0415 - start time

    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        fail(f"{token_id!r} is not a token id (see `keyholder scim tokens list ACCOUNT`)")
    revoked = revoke_scim_token(runtime().uow(), parsed, actor=operator())
    if as_json:
        print_json({"id": str(revoked.id), "revoked_at": str(revoked.revoked_at)})
    else:
        typer.echo(f"revoked SCIM token {revoked.id}")
