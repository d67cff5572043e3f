"""keyholder tickets …: the support desk's queue and threads, for operators."""

from __future__ import annotations

import typer

from keyholder.cli.api_links import attachment_url
from keyholder.cli.common import (
    JsonOption,
    handle_errors,
    operator,
    print_json,
    print_table,
    runtime,
)
from keyholder.db.types import INTEGER_MAX
from keyholder.desk import queue, service
from keyholder.desk.models import MessageVisibility, TicketKind, TicketStatus
from keyholder.desk.queue import QueueFilter, QueueSort, QueueState
from keyholder.desk.schemas import staff_summary, staff_ticket_out

app = typer.Typer(help="Support tickets.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_(
    *,
    state: QueueState = typer.Option(QueueState.OPEN, "--state"),
    status: list[TicketStatus] = typer.Option([], "--status", help="Repeatable."),
    assignee: str | None = typer.Option(None, "--assignee", help="An email, or 'none'."),
    group: str | None = typer.Option(None, "--group"),
    account: str | None = typer.Option(None, "--account"),
    kind: TicketKind | None = typer.Option(None, "--kind"),
    sort: QueueSort = typer.Option(QueueSort.NEWEST, "--sort"),
    limit: int = typer.Option(50, "--limit", min=1, max=queue.MAX_PAGE),
    as_json: bool = JsonOption,
) -> None:
    """List tickets: newest open ones first by default."""
    wanted = QueueFilter(
        state=state,
        statuses=frozenset(status),
        assignee=assignee,
        group=group,
        account=account,
        kind=kind,
        sort=sort,
        limit=limit,
    )
    uow = runtime().uow(read_only=True)
    rows = queue.list_queue(uow, wanted, actor=operator())
    now = uow.clock.now()
    if as_json:
        print_json([staff_summary(row, now).model_dump(mode="json") for row in rows])
        return
    print_table(
        ["#", "status", "priority", "group", "requester", "account", "assignee", "subject"],
        [
            (
                r.ticket.id,
                r.ticket.status,
                r.ticket.priority,
                r.ticket.group,
                r.ticket.requester_email,
                r.account_name or "",
                r.assignee_email or "",
                r.ticket.subject,
            )
            for r in rows
        ],
    )


@app.command("show")
@handle_errors
def show(
    number: int = typer.Argument(..., min=1, max=INTEGER_MAX),  # S39: one a row can have
    as_json: bool = JsonOption,
) -> None:
    """Show a ticket and its whole thread, internal notes marked."""
    uow = runtime().uow(read_only=True)
    thread = service.get_ticket(uow, number, actor=operator(), staff_view=True)
    if as_json:
        out = staff_ticket_out(thread, uow.clock.now(), attachment_url=attachment_url)
        print_json(out.model_dump(mode="json"))
        return
    ticket = thread.ticket
    typer.echo(f"ticket:     #{ticket.id} {ticket.subject}")
    typer.echo(f"status:     {ticket.status} ({ticket.priority}, group {ticket.group})")
    typer.echo(f"requester:  {ticket.requester_email}")
    typer.echo(f"account:    {thread.account_name or '-'}")
    typer.echo(f"assignee:   {thread.assignee_email or '-'}")
    if ticket.follow_up_of_id:
        typer.echo(f"follows up: #{ticket.follow_up_of_id}")
    for message in thread.messages:
        internal = message.visibility is MessageVisibility.INTERNAL
        label = "INTERNAL NOTE" if internal else "public"
        flags = " [needs review]" if message.needs_review else ""
        typer.echo("")
        typer.echo(
            f"--- {message.created_at:%Y-%m-%d %H:%M} {message.author_email} "
            f"({label}, via {message.channel}){flags}"
        )
        typer.echo(message.body.rstrip())
        for attachment in message.attachments:
            typer.echo(
                f"    attachment: {attachment.filename} ({attachment.content_type}, "
                f"{attachment.size} bytes)"
            )
