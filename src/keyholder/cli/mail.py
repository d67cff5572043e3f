"""keyholder mail …"""

from __future__ import annotations

import typer

from keyholder.cli.common import JsonOption, fail, print_json, print_table, runtime
from keyholder.mail.models import OutboxStatus
from keyholder.mail.outbox import list_outbox

app = typer.Typer(help="Outgoing email.", no_args_is_help=True)


@app.command("outbox")
def outbox(
    status: OutboxStatus | None = typer.Option(None, "--status"),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    full: bool = typer.Option(False, "--full", help="Print whole messages."),
    as_json: bool = JsonOption,
) -> None:
    """Show queued and sent emails, newest first (readable without SMTP in development)."""
    with runtime().uow(read_only=True) as uow:
        rows = [
            {"id": m.id, "kind": m.kind, "status": m.status, "to": m.recipients,
             "subject": m.subject, "body": m.body, "message_id": m.message_id,
             "created_at": m.created_at.isoformat(), "attempts": m.attempts,
             "last_error": m.last_error}
            for m in list_outbox(uow, status=status, limit=limit)
        ]
    if as_json:
        print_json(rows)
    elif full:
        for row in rows:
            typer.echo(f"--- #{row['id']} {row['status']} {row['message_id']}")
            typer.echo(f"To: {', '.join(row['to'])}\nSubject: {row['subject']}\n\n{row['body']}")
    else:
        print_table(
            ["id", "status", "kind", "to", "subject"],
            [(r["id"], r["status"], r["kind"], r["to"], r["subject"]) for r in rows],
        )


@app.command("send")
def send() -> None:
    """Deliver every due message now, then exit."""
    relay = runtime().relay()
    if relay is None:
        fail("KEYHOLDER_SMTP_URL is not set; messages stay in the outbox")
    result = relay.run_until_idle()
    typer.echo(f"{result.sent} sent, {result.retrying} to retry, {result.failed} failed")
