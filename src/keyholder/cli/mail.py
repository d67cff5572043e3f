"""keyholder mail …"""

from __future__ import annotations

from typing import Any

import typer

from keyholder.cli.common import (
    JsonOption,
    fail,
    handle_errors,
    print_json,
    print_table,
    runtime,
)
from keyholder.mail.models import OutboxMessage, OutboxStatus
from keyholder.mail.outbox import list_outbox

app = typer.Typer(help="Outgoing email.", no_args_is_help=True)


@app.command("outbox")
@handle_errors
def outbox(
    status: OutboxStatus | None = typer.Option(None, "--status"),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    full: bool = typer.Option(False, "--full", help="Print whole messages."),
    as_json: bool = JsonOption,
) -> None:
    """Show queued and sent emails, newest first (readable without SMTP in development)."""
    messages = list_outbox(runtime().uow(read_only=True), status=status, limit=limit)
    if as_json:
        print_json([_message_json(m) for m in messages])
    elif full:
        for m in messages:
            typer.echo(f"--- #{m.id} {m.status} {m.message_id}")
            typer.echo(f"To: {', '.join(m.recipients)}\nSubject: {m.subject}\n\n{m.body}")
    else:
        print_table(
            ["id", "status", "kind", "to", "subject"],
            [(m.id, m.status, m.kind, m.recipients, m.subject) for m in messages],
        )


def _message_json(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind,
        "status": message.status,
        "to": message.recipients,
        "subject": message.subject,
        "body": message.body,
        "message_id": message.message_id,
        "created_at": message.created_at.isoformat(),
        "attempts": message.attempts,
        "last_error": message.last_error,
    }


@app.command("send")
@handle_errors
def send() -> None:
    """Deliver every due message now, then exit."""
    relay = runtime().relay()
    if relay is None:
        fail("KEYHOLDER_SMTP_URL is not set; messages stay in the outbox")
    result = relay.run_until_idle()
    typer.echo(f"{result.sent} sent, {result.retrying} to retry, {result.failed} failed")
