"""keyholder audit …"""

from __future__ import annotations

from typing import Any

import typer

from keyholder.audit import service
from keyholder.audit.models import AuditEvent
from keyholder.cli.common import (
    JsonOption,
    fail,
    handle_errors,
    print_json,
    print_table,
    runtime,
)

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_(
    target: str | None = typer.Option(None, "--target", help="e.g. account:acme-corp"),
    action: str | None = typer.Option(None, "--action", help="e.g. member.add"),
    limit: int = typer.Option(50, "--limit", min=1, max=10000),
    as_json: bool = JsonOption,
) -> None:
    """Newest audit events first."""
    events = service.list_events(
        runtime().uow(read_only=True), target=target, action=action, limit=limit
    )
    if as_json:
        print_json([_event_json(e) for e in events])
        return
    print_table(
        ["seq", "at", "actor", "action", "target", "change"],
        [
            (e.seq, f"{e.at:%Y-%m-%dT%H:%M:%S}", e.actor, e.action, e.target, _change(e))
            for e in events
        ],
    )


def _event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "before": event.data.get("before"),
        "after": event.data.get("after"),
        "client_address": event.client_address,
        "request_id": event.request_id,
        "hash": event.hash,
    }


def _change(event: AuditEvent) -> str:
    before, after = event.data.get("before"), event.data.get("after")
    if before and after:
        return f"{before} -> {after}"
    return str(after or before or "")


@app.command("verify")
@handle_errors
def verify() -> None:
    """Check the hash chain; exit 1 naming the first bad event."""
    report = service.verify_chain(runtime().uow(read_only=True))
    if not report.intact:
        fail(
            f"audit chain broken at event #{report.first_bad_seq}: {report.problem} "
            f"({report.checked} events before it are intact)"
        )
    typer.echo(f"audit chain intact: {report.checked} events")
