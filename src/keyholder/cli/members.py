"""keyholder members …"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from keyholder.accounts import members
from keyholder.accounts.members import AddedMember
from keyholder.accounts.permissions import PermissionSet, ordered
from keyholder.cli.common import (
    JsonOption,
    fail,
    handle_errors,
    operator,
    print_json,
    print_table,
    runtime,
)

if TYPE_CHECKING:
    from keyholder.accounts.bulk import ImportResult
    from keyholder.accounts.members_csv import MemberRow

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


IMPORT_HELP = """Import members from a CSV file: add, invite, change or remove them.

The file says what the members it lists should have; members it does not list
are left alone. A header row names the columns: email, permissions and,
optionally, action. Permissions are separated by ";", "," or spaces (view is
always implied) and are the member's complete set: an email that is not a
member is added, or invited by email when it has no user yet; a member's
permissions are replaced. A row whose action is "remove" (permissions empty)
takes that member off. `keyholder members export` writes such a file.

\b
    email,permissions,action
    alice@acme.example,view;manage;billing,
    bob@acme.example,view create,
    carol@acme.example,,remove

All or nothing: the file is checked whole and applied in one transaction, each
change audited (and emailed) as by `members add|set|remove`. Any error leaves
everything unchanged and prints every error as "line N, column C: reason"
(the header is line 1). The account keeps at least one admin (manage) at the
end. With --continue-on-error each valid row is applied on its own, in file
order, and the rows with errors are skipped. Limits: 10 MiB, 100,000 rows, one
row per email. A "remove" row for an email that is not a member changes nothing
(a pending invitation stays), and an email already invited with the row's
permissions is not emailed again. A leading ' in a cell is dropped: spreadsheets
write it to mark text (`members export` does, before = + - @).

One transaction holds the database's write lock (SQLite) and the audit log's
lock (PostgreSQL) until it commits, a few seconds per thousand changed rows:
on a busy service, import large files in parts or with --continue-on-error.
"""


@app.command("import", help=IMPORT_HELP)
@handle_errors
def import_(
    file: str = typer.Argument(..., metavar="FILE.csv", help="The members file; - reads stdin."),
    account: str = AccountOption,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check the file and print what would change; change nothing."
    ),
    continue_on_error: bool = typer.Option(
        False,
        "--continue-on-error",
        help="Apply each valid row in its own transaction and skip the others (exit 1 if any).",
    ),
    as_json: bool = JsonOption,
) -> None:
    # A refused file prints all its errors, one per line, before handle_errors' one-line reason.
    from keyholder.accounts.members_csv import parse_members_csv  # noqa: PLC0415 - fast start
    from keyholder.errors import InvalidRows  # noqa: PLC0415

    parsed = parse_members_csv(_read_members_file(file))
    if continue_on_error:
        result = _import(account, parsed.rows, dry_run=dry_run, row_by_row=True, bar=not as_json)
        errors = sorted([*parsed.errors, *result.errors], key=lambda error: error.line)
        _print_import(replace(result, errors=errors), as_json=as_json)
        for error in errors:
            typer.echo(str(error), err=True)
        if errors:
            fail(f"{len(errors)} error(s) in {file}: those rows were skipped")
        return
    errors = parsed.errors
    if not errors:
        try:
            result = _import(account, parsed.rows, dry_run=dry_run, bar=not as_json)
        except InvalidRows as exc:
            errors = exc.errors
        else:
            _print_import(result, as_json=as_json)
            return
    for error in errors:
        typer.echo(str(error), err=True)
    fail(f"{len(errors)} error(s) in {file}: nothing was changed")


def _import(
    account: str, rows: Sequence[MemberRow], *, dry_run: bool, bar: bool, row_by_row: bool = False
) -> ImportResult:
    """Import ``rows``; ``bar``: a progress bar when the run is long (never for --json)."""
    from keyholder.accounts.bulk import (  # noqa: PLC0415 - fast start
        import_members,
        import_members_row_by_row,
    )
    from keyholder.cli.progress import progress_bar  # noqa: PLC0415

    description = "checking" if dry_run else "importing"
    rt = runtime()
    with progress_bar(f"{description} {len(rows)} rows", len(rows) if bar else 0) as advance:
        if row_by_row:
            return import_members_row_by_row(
                rt.uow, account, rows, actor=operator(), dry_run=dry_run, on_row=advance
            )
        return import_members(
            rt.uow(), account, rows, actor=operator(), dry_run=dry_run, on_row=advance
        )


def _read_members_file(file: str) -> bytes:
    from keyholder.accounts.members_csv import MAX_FILE_BYTES  # noqa: PLC0415 - fast start

    try:
        if file == "-":
            data = typer.get_binary_stream("stdin").read(MAX_FILE_BYTES + 1)
        else:
            with Path(file).open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    if len(data) > MAX_FILE_BYTES:
        fail(f"{file} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB: split it")
    return data


def _print_import(result: ImportResult, *, as_json: bool) -> None:
    from keyholder.accounts.bulk import Outcome  # noqa: PLC0415 - fast start

    def names(permissions: PermissionSet | None) -> list[str] | None:
        return None if permissions is None else [str(p) for p in ordered(permissions)]

    if as_json:
        print_json(
            {
                "account": result.account,
                "dry_run": result.dry_run,
                "counts": result.counts,
                "rows": [
                    {
                        "line": row.line,
                        "email": row.email,
                        "outcome": row.outcome.value,
                        "before": names(row.before),
                        "after": names(row.after),
                    }
                    for row in result.rows
                ],
                "errors": [
                    {"line": error.line, "column": error.column, "reason": error.reason}
                    for error in result.errors
                ],
            }
        )
        return
    for row in result.rows:
        if row.outcome is Outcome.UNCHANGED:
            continue
        shown = ",".join(names(row.after or row.before) or [])
        if row.outcome is Outcome.CHANGED:
            shown = f"{','.join(names(row.before) or [])} -> {shown}"
        typer.echo(f"line {row.line}: {row.outcome.value} {row.email} ({shown})")
    counts = ", ".join(f"{n} {outcome}" for outcome, n in result.counts.items())
    prefix = "dry run, nothing changed: " if result.dry_run else ""
    typer.echo(f"{prefix}{result.account}: {counts}")


@app.command("export")
@handle_errors
def export(
    destination: str = typer.Argument(
        "-", metavar="[FILE|-]", help="Where to write the CSV; - (the default) is stdout."
    ),
    account: str = AccountOption,
) -> None:
    """Export the members of an account as CSV (email,permissions), for `members import`.

    Cells a spreadsheet could take for a formula start with ' (OWASP CSV
    injection); `members import` reads them back as they were. Pending
    invitations are not members and are not listed.
    """
    from keyholder.accounts.bulk import export_members  # noqa: PLC0415 - fast start
    from keyholder.accounts.members_csv import write_members_csv  # noqa: PLC0415

    found = export_members(runtime().uow(read_only=True), account, actor=operator())
    if destination == "-":
        write_members_csv(typer.get_text_stream("stdout"), found)
        return
    try:
        with Path(destination).open("w", encoding="utf-8", newline="") as out:
            written = write_members_csv(out, found)
    except OSError as exc:
        fail(f"cannot write {destination}: {exc.strerror or exc}")
    typer.echo(f"exported {written} members of {account} to {destination}", err=True)
