"""keyholder webhooks …: subscribe endpoints to events, read their delivery log (issue 19)."""

from __future__ import annotations

import uuid
from typing import Any

import typer

from keyholder.cli.common import JsonOption, fail, handle_errors, operator, print_json, print_table
from keyholder.cli.common import runtime as current_runtime
from keyholder.webhooks import service
from keyholder.webhooks.delivery import deliver_due
from keyholder.webhooks.events import ALL_EVENT_TYPES
from keyholder.webhooks.models import PayloadFormat
from keyholder.webhooks.schemas import delivery_out, endpoint_out, endpoint_with_secret_out

app = typer.Typer(
    help="Webhook endpoints: signed deliveries of events (Standard Webhooks).",
    no_args_is_help=True,
)

EndpointArg = typer.Argument(..., help="The endpoint's id (`keyholder webhooks list`).")


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json")


def _parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{value!r} is not an endpoint id")


@app.command("add")
@handle_errors
def add(
    url: str = typer.Argument(..., help="The https:// URL events are POSTed to."),
    *,
    events: str = typer.Option(
        "",
        "--events",
        help="Comma-separated event types: " + ", ".join(sorted(ALL_EVENT_TYPES)) + ".",
    ),
    audit: bool = typer.Option(
        False, "--audit", help="Stream every audit event with its chain hash instead."
    ),
    start_after: int | None = typer.Option(
        None, "--start-after", min=0, help="Deliver events after this seq (0: the whole log)."
    ),
    description: str = typer.Option("", "--description"),
    as_json: bool = JsonOption,
) -> None:
    """Subscribe URL; prints its signing secret, which is shown only this once."""
    if not events and not audit:
        fail("give --events TYPE,... (or --audit)")
    added = service.add_endpoint(
        current_runtime().uow(),
        url,
        event_types=[e.strip() for e in events.split(",") if e.strip()],
        payload_format=PayloadFormat.AUDIT if audit else PayloadFormat.EVENT,
        description=description,
        start_after=start_after,
        actor=operator(),
    )
    if as_json:
        print_json(_dump(endpoint_with_secret_out(added.endpoint, added.secret)))
        return
    typer.echo(f"added {added.endpoint.id} -> {url}")
    typer.echo(f"secret (shown once): {added.secret}")


@app.command("list")
@handle_errors
def list_endpoints(as_json: bool = JsonOption) -> None:
    """Every endpoint, its events, state and cursor."""
    endpoints = service.list_endpoints(current_runtime().uow(read_only=True), actor=operator())
    if as_json:
        print_json([_dump(endpoint_out(e)) for e in endpoints])
        return
    print_table(
        ["id", "url", "events", "enabled", "cursor", "failures"],
        [
            (e.id, e.url, e.event_types, e.enabled, e.cursor, e.consecutive_failures)
            for e in endpoints
        ],
    )


@app.command("deliveries")
@handle_errors
def deliveries(
    endpoint: str = EndpointArg,
    limit: int = typer.Option(50, "--limit", min=1, max=service.MAX_DELIVERIES_PAGE),
    as_json: bool = JsonOption,
) -> None:
    """The endpoint's delivery log: each attempt, newest first."""
    found = service.list_deliveries(
        current_runtime().uow(read_only=True), _parse_id(endpoint), limit=limit, actor=operator()
    )
    if as_json:
        print_json([_dump(delivery_out(d)) for d in found])
        return
    print_table(
        ["attempted_at", "seq", "event", "status", "ms", "error"],
        [
            (d.attempted_at.isoformat(), d.seq, d.event_type, d.status_code, d.duration_ms, d.error)
            for d in found
        ],
    )


@app.command("redeliver")
@handle_errors
def redeliver(
    endpoint: str = EndpointArg,
    from_seq: int | None = typer.Option(
        None, "--from-seq", min=1, help="Send again from this event on (default: resume)."
    ),
    now: bool = typer.Option(False, "--now", help="Deliver now instead of at the next run."),
) -> None:
    """Enable the endpoint and deliver again, from --from-seq or where deliveries stopped."""
    rt = current_runtime()
    done = service.redeliver(rt.uow(), _parse_id(endpoint), from_seq=from_seq, actor=operator())
    typer.echo(f"{done.id}: delivering events after #{done.cursor}")
    if now:
        result = deliver_due(rt.uow, rt.webhook_transport)
        typer.echo(f"delivered {result.delivered}, failed {result.failed}")


@app.command("rotate-secret")
@handle_errors
def rotate_secret(endpoint: str = EndpointArg) -> None:
    """A new signing secret; the old one keeps signing for KEYHOLDER_WEBHOOK_SECRET_OVERLAP."""
    rotated = service.rotate_secret(current_runtime().uow(), _parse_id(endpoint), actor=operator())
    typer.echo(f"secret (shown once): {rotated.secret}")
    until = rotated.endpoint.previous_secret_until
    typer.echo(f"the previous secret also signs until {until.isoformat() if until else '-'}")


@app.command("disable")
@handle_errors
def disable(
    endpoint: str = EndpointArg,
    reason: str = typer.Option("", "--reason"),
) -> None:
    """Stop deliveries (`redeliver` resumes them where they stopped)."""
    service.disable_endpoint(
        current_runtime().uow(), _parse_id(endpoint), reason=reason, actor=operator()
    )
    typer.echo("disabled")


@app.command("remove")
@handle_errors
def remove(endpoint: str = EndpointArg) -> None:
    """Delete the endpoint and its delivery log."""
    service.remove_endpoint(current_runtime().uow(), _parse_id(endpoint), actor=operator())
    typer.echo("removed")
