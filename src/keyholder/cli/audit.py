"""keyholder audit …"""

from __future__ import annotations

import typer

from keyholder.audit import service
from keyholder.cli.common import JsonOption, fail, print_json, print_table, runtime

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("list")
def list_(
    target: str | None = typer.Option(None, "--target", help="e.g. account:acme-corp"),
    action: str | None = typer.Option(None, "--action", help="e.g. member.add"),
    limit: int = typer.Option(50, "--limit", min=1, max=10000),
    as_json: bool = JsonOption,
) -> None:
    """Newest audit events first."""
    with runtime().uow(read_only=True) as uow:
        events = service.list_events(uow, target=target, action=action, limit=limit)
        rows = [
            {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
             "target": e.target, "before": e.data.get("before"), "after": e.data.get("after"),
             "client_address": e.client_address, "request_id": e.request_id, "hash": e.hash}
            for e in events
        ]
    if as_json:
        print_json(rows)
        return
    print_table(
        ["seq", "at", "actor", "action", "target", "change"],
        [(r["seq"], r["at"][:19], r["actor"], r["action"], r["target"],
          _change(r["before"], r["after"])) for r in rows],
    )


def _change(before: object, after: object) -> str:
    if before and after:
        return f"{before} -> {after}"
    return str(after or before or "")


@app.command("verify")
def verify() -> None:
    """Check the hash chain; exit 1 naming the first bad event."""
    with runtime().uow(read_only=True) as uow:
        report = service.verify_chain(uow)
    if not report.intact:
        fail(f"audit chain broken at event #{report.first_bad_seq}: {report.problem} "
             f"({report.checked} events before it are intact)")
    typer.echo(f"audit chain intact: {report.checked} events")
