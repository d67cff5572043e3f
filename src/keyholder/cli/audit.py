"""keyholder audit …"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from keyholder.audit import service
from keyholder.audit.keys import (
    KEY_ID_PATTERN,
    AuditKeyProblem,
    load_signing_key,
    new_chain_key,
    new_signing_key,
    public_key_text,
)
from keyholder.audit.models import AuditEvent
from keyholder.audit.settings import signing_key, trusted_public_keys
from keyholder.audit.verify import (
    ChainReport,
    CheckpointFileProblem,
    read_checkpoints,
    verify_chain,
)
from keyholder.cli.audit_export import export, verify_export
from keyholder.cli.common import (
    JsonOption,
    fail,
    handle_errors,
    print_json,
    print_table,
    runtime,
)
from keyholder.config import Settings

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.command("export")(export)
app.command("verify-export")(verify_export)


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
        "key_id": event.key_id,
    }


def _change(event: AuditEvent) -> str:
    before, after = event.data.get("before"), event.data.get("after")
    if before and after:
        return f"{before} -> {after}"
    return str(after or before or "")


@app.command("verify")
@handle_errors
def verify(
    checkpoints: list[Path] = typer.Option(
        [],
        "--checkpoints",
        help="A checkpoint file or syslog archive (repeatable); "
        "default: KEYHOLDER_AUDIT_CHECKPOINT_FILE.",
    ),
    public_keys: list[str] = typer.Option(
        [],
        "--public-key",
        help="Trust checkpoints signed by this Ed25519 public key (base64 or PEM; repeatable) "
        "instead of the configured ones.",
    ),
) -> None:
    """Check the keyed chain and the signed checkpoints; exit 1 naming the first bad event."""
    rt = runtime()
    paths, where = _checkpoint_sources(rt.settings, checkpoints)
    try:
        trusted = trusted_public_keys(rt.settings, public_keys)
        found = read_checkpoints(paths, trusted)
    except (AuditKeyProblem, CheckpointFileProblem) as exc:
        fail(str(exc))
    report = verify_chain(rt.uow(read_only=True), checkpoints=found)
    if not report.intact:
        fail(report.problem or "audit chain broken")
    if not found and report.checked:
        typer.echo(
            f"warning: no signed checkpoint {where}: deleting the newest events "
            "or recomputing the chain would go unnoticed",
            err=True,
        )
    typer.echo(_summary(report))


def _checkpoint_sources(settings: Settings, given: list[Path]) -> tuple[list[Path], str]:
    """The files to read checkpoints from, and how to name them in a warning."""
    for path in given:
        if not path.is_file():
            fail(f"no checkpoint file at {path}")
    if given:
        return given, f"in {', '.join(map(str, given))}"
    configured = settings.audit_checkpoint_file
    if configured is None:
        return [], "file configured"
    if not configured.is_file():
        return [], f"in {configured} (no such file yet)"
    return [configured], f"in {configured}"


def _summary(report: ChainReport) -> str:
    summary = f"audit chain intact: {report.checked} events"
    if report.legacy:
        summary += f" (the first {report.legacy} from before keyed chaining)"
    if report.anchor is not None:
        summary += (
            f"; anchored by the signed checkpoint of event #{report.anchor.seq} "
            f"({report.anchor.at})"
        )
        if report.checked > report.anchor.seq:
            summary += f", {report.checked - report.anchor.seq} newer events not anchored yet"
    return summary


@app.command("keygen")
def keygen(
    key_id: str = typer.Option(
        None, "--key-id", help="Name of the new chain key (default: today's date)."
    ),
) -> None:
    """Print new audit keys as settings lines (keep them out of the database and its backups).

    To rotate the chain key, add the new id to the existing KEYHOLDER_AUDIT_KEYS
    object and point KEYHOLDER_AUDIT_KEY_ID at it; keep the old keys.
    """
    key_id = key_id or datetime.now(UTC).date().isoformat()
    if not KEY_ID_PATTERN.fullmatch(key_id):
        fail("--key-id must be 1-32 letters, digits, '.', '_' or '-'")
    signing = new_signing_key()
    public = public_key_text(load_signing_key(signing).public_key())
    typer.echo(f"KEYHOLDER_AUDIT_KEYS='{json.dumps({key_id: new_chain_key()})}'")
    typer.echo(f"KEYHOLDER_AUDIT_KEY_ID={key_id}")
    typer.echo(f"KEYHOLDER_AUDIT_SIGNING_KEY={signing}")
    typer.echo(f"# public key, for verifying elsewhere (--public-key): {public}")


@app.command("public-key")
@handle_errors
def public_key() -> None:
    """Print the public key of the configured checkpoint signing key (for --public-key)."""
    key = signing_key(runtime().settings)
    if key is None:
        fail("KEYHOLDER_AUDIT_SIGNING_KEY is not set")
    typer.echo(public_key_text(key.public_key()))


def require_checkpoint_signer() -> None:
    """Stop serve/worker on a host that can only verify: its events would go unanchored."""
    rt = runtime()
    if rt.settings.audit_signing_key is None:
        fail(
            "KEYHOLDER_AUDIT_SIGNING_KEY is not set: this host can only verify the audit log; "
            "a server needs the key to sign audit checkpoints",
            code=2,
        )
