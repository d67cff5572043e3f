"""keyholder access-requests …: review admin-access requests from the server's shell.

Decisions are made by a named reviewer (``--as EMAIL``): two approvals must come
from two different people (S24), so the operator cannot approve as "the CLI".
"""

from __future__ import annotations

import uuid

import typer

from keyholder.access import decisions, queries, retention, schemas
from keyholder.access.decisions import Decision
from keyholder.access.models import AccessRequest, Approval
from keyholder.access.schemas import AccessRequestOut
from keyholder.access.states import RequestState
from keyholder.cli import api_links
from keyholder.cli.common import (
    JsonOption,
    fail,
    handle_errors,
    operator,
    print_json,
    print_table,
    runtime,
)
from keyholder.identity.actor import Actor
from keyholder.identity.service import find_user

app = typer.Typer(help="Admin-access requests.", no_args_is_help=True)

AsReviewer = typer.Option(..., "--as", help="The reviewer deciding (a staff email, with MFA).")


def _reviewer(email: str) -> Actor:
    with runtime().uow(read_only=True) as uow:
        user = find_user(uow, email)
    if user is None or user.staff_role is None:
        fail(f"{email} is not a staff member")
    return Actor.for_user(user)


def _request_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{value!r} is not a request id (a UUID, as `access-requests list` shows)")


def request_out(
    request: AccessRequest, approvals: list[Approval], letter_id: uuid.UUID | None = None
) -> AccessRequestOut:
    """The request as the API shows it, addresses included."""
    return schemas.request_out(
        request,
        approvals,
        letter_id,
        attachment_url=api_links.attachment_url,
        annotated_letter_url=api_links.annotated_letter_url,
    )


@app.command("list")
@handle_errors
def list_(
    state: RequestState | None = typer.Option(None, "--state"),
    as_json: bool = JsonOption,
) -> None:
    """List requests, newest first."""
    found = queries.list_requests(runtime().uow(read_only=True), actor=operator(), state=state)
    if as_json:
        print_json([request_out(r, []).model_dump(mode="json") for r in found])
        return
    print_table(
        ["id", "state", "account", "email to add", "requester", "ticket", "created"],
        [
            (
                r.id,
                r.state,
                r.account_name,
                r.email_to_add,
                r.requester_email,
                f"#{r.ticket_id}",
                f"{r.created_at:%Y-%m-%d %H:%M}",
            )
            for r in found
        ],
    )


@app.command("show")
@handle_errors
def show(request_id: str, as_json: bool = JsonOption) -> None:
    """Show a request with its risk summary (failing and unknown checks first)."""
    detail = queries.get_request(
        runtime().uow(read_only=True), _request_id(request_id), actor=operator()
    )
    out = request_out(detail.request, list(detail.approvals), detail.letter_attachment_id)
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    typer.echo(f"request:     {out.id} ({out.state}), ticket #{out.ticket}")
    typer.echo(f"account:     {out.account_name}{'' if out.account_matched else ' (no match)'}")
    typer.echo(f"add:         {out.email_to_add}  requested by {out.requester_email}")
    typer.echo(f"executive:   {out.executive_name}, {out.executive_title} <{out.executive_email}>")
    typer.echo(f"contract:    {out.contract_number}")
    typer.echo(f"reason:      {out.reason}")
    for approval in out.approvals:
        typer.echo(f"approved by: {approval.reviewer} at {approval.at:%Y-%m-%d %H:%M} UTC")
    if out.cooling_off_until:
        typer.echo(f"cooling-off: until {out.cooling_off_until:%Y-%m-%d %H:%M} UTC")
    if out.outcome:
        typer.echo(f"outcome:     {out.outcome}")
    held = "held" if out.proofs.held else "MISSING: a second approval is refused until one passes"
    typer.echo(f"proofs:      {held} (S23b)")
    for proof in out.proofs.items:
        typer.echo(f"  {proof.status:<8} {proof.check:<24} {proof.explanation}")
        if proof.status != "pass":
            typer.echo(f"  {'':<8} {'':<24} customer can: {proof.how_to_provide}")
    typer.echo("evidence:")
    for item in out.risk_summary:
        typer.echo(f"  {item['status']:<8} {item['check']:<24} {item['explanation']}")


def _decide(request_id: str, decision: Decision, reviewer: str, note: str) -> None:
    request = decisions.decide(
        runtime().uow(), _request_id(request_id), decision, actor=_reviewer(reviewer), note=note
    )
    typer.echo(f"request {request.id} is now {request.state}")


@app.command("approve")
@handle_errors
def approve(
    request_id: str,
    reviewer: str = AsReviewer,
    note: str = typer.Option("", "--note", help="Needed when checks are failing."),
) -> None:
    """Approve as one reviewer; a second, different reviewer's approval starts the cooling-off."""
    _decide(request_id, Decision.APPROVE, reviewer, note)


@app.command("reject")
@handle_errors
def reject(
    request_id: str,
    reviewer: str = AsReviewer,
    reason: str = typer.Option(..., "--reason", help="Emailed to the requester."),
) -> None:
    """Reject the request; the requester is told the reason."""
    _decide(request_id, Decision.REJECT, reviewer, reason)


@app.command("request-info")
@handle_errors
def request_info(
    request_id: str,
    reviewer: str = AsReviewer,
    message: str = typer.Option(..., "--message", help="What is needed; emailed to the requester."),
) -> None:
    """Ask the requester for more; earlier approvals no longer count."""
    _decide(request_id, Decision.REQUEST_INFO, reviewer, message)


@app.command("purge-due")
@handle_errors
def purge_due_requests(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List the requests past their retention; delete nothing."
    ),
) -> None:
    """Delete the files and email bodies of requests decided longer ago than the retention.

    The background jobs do this on their own; this runs it now. Tombstones keep
    each file's hash (docs/data-protection.md).
    """
    rt = runtime()
    if dry_run:
        due = retention.due_for_purge(rt.uow(), limit=10_000)
        for request_id in due:
            typer.echo(str(request_id))
        days = rt.settings.access_request_retention.days
        typer.echo(f"{len(due)} request(s) past their retention of {days} days")
        return
    typer.echo(f"purged {retention.purge_due(rt.uow, limit=10_000)} request(s)")
