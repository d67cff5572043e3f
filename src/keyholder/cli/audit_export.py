"""keyholder audit export | verify-export: the log for consumers outside (issue 19)."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import typer

from keyholder.audit.export import MAX_PAGE_SIZE, MAX_SEQ, event_record, events_after
from keyholder.audit.keys import AuditKeyProblem, ChainKeyring
from keyholder.audit.received import ReceivedReport, verify_received
from keyholder.audit.settings import chain_keyring, trusted_public_keys
from keyholder.audit.verify import CheckpointFileProblem, read_checkpoints
from keyholder.cli.common import fail, handle_errors, runtime

_HASH = re.compile(r"[0-9a-f]{64}")


@handle_errors
def export(
    after: int = typer.Option(
        0, "--after", min=0, max=MAX_SEQ, help="Export the events after this seq (0: all)."
    ),
    limit: int = typer.Option(
        MAX_PAGE_SIZE, "--limit", min=1, max=MAX_PAGE_SIZE, help="Events read per page."
    ),
    output_format: str = typer.Option("jsonl", "--format", help="Only jsonl: one event a line."),
    output: str = typer.Option(
        "-", "--output", "-o", help="A file, written whole or not at all; '-' for stdout."
    ),
) -> None:
    """Write the events after --after, oldest first, each with its link and hash.

    Resume with --after set to the last seq received; `keyholder audit
    verify-export` checks what arrived (no gap, each link, each hash).
    """
    if output_format != "jsonl":
        fail("--format must be jsonl")
    if output != "-" and not Path(output).parent.is_dir():
        fail(f"no directory {Path(output).parent} for --output")
    with _destination(output) as stream:
        count, last = _write_pages(stream, after, limit)
    where = "" if output == "-" else f" to {output}"
    typer.echo(f"exported {count} events after #{after}{where}; last seq {last}", err=True)


def _write_pages(stream: IO[str], after: int, limit: int) -> tuple[int, int]:
    """Page by page, one read transaction each: the whole log is never in memory."""
    rt, count = runtime(), 0
    while True:
        with rt.uow(read_only=True) as uow:
            page = events_after(uow, after, limit=limit)
            for event in page.events:
                stream.write(json.dumps(event_record(event), ensure_ascii=False) + "\n")
            uow.session.expunge_all()
        count += len(page.events)
        if not page.events:
            return count, after
        after = page.next_after


@contextmanager
def _destination(output: str) -> Iterator[IO[str]]:
    if output == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(output)
    handle, temporary = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(target)  # readers see the old file or the whole new one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@handle_errors
def verify_export(
    files: list[Path] = typer.Argument(
        ..., help="JSON-lines exports, in the order received (a resumed stream: each in turn)."
    ),
    after_hash: str | None = typer.Option(
        None,
        "--after-hash",
        help="The hash of the last event received before these files, when they resume "
        "a stream checked earlier.",
    ),
    checkpoints: list[Path] = typer.Option(
        [], "--checkpoints", help="A signed checkpoint file the hashes must agree with."
    ),
    public_keys: list[str] = typer.Option(
        [], "--public-key", help="Trust checkpoints signed by this Ed25519 public key."
    ),
) -> None:
    """Check an export as received: no gap, each link, re-deliveries, and each hash.

    Hashes are recomputed with the configured chain keys (KEYHOLDER_AUDIT_KEYS);
    without them only the links are checked. Exit 1 naming the first bad event.
    """
    settings = runtime().settings
    if after_hash is not None and not _HASH.fullmatch(after_hash):
        fail("--after-hash must be an event's hash: 64 hexadecimal digits")
    for path in [*files, *checkpoints]:
        if not path.is_file():
            fail(f"no file at {path}")
    try:
        found = read_checkpoints(checkpoints, trusted_public_keys(settings, public_keys))
    except (AuditKeyProblem, CheckpointFileProblem) as exc:
        fail(str(exc))
    report = verify_received(
        _lines(files), after_hash=after_hash, keyring=_keyring(), checkpoints=found
    )
    if not report.intact:
        fail(report.problem or "export broken")
    if report.checked and not report.hashes_recomputed:
        typer.echo(
            "warning: no chain key for these events: links checked, hashes not recomputed "
            "(an edited field would go unnoticed)",
            err=True,
        )
    typer.echo(_summary(report))


def _keyring() -> ChainKeyring | None:
    try:
        return chain_keyring(runtime().settings)
    except AuditKeyProblem:
        return None


def _lines(files: list[Path]) -> Iterator[tuple[str, str]]:
    for path in files:
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                yield f"{path.name} line {number}", line


def _summary(report: ReceivedReport) -> str:
    if not report.checked:
        return "export intact: no events"
    summary = (
        f"export intact: {report.checked} events, #{report.first_seq} to #{report.last_seq} "
        f"(last hash {report.last_hash})"
    )
    if report.duplicates:
        summary += f"; {report.duplicates} received again, recognised and skipped"
    if report.anchor is not None:
        summary += f"; anchored by the signed checkpoint of event #{report.anchor.seq}"
    return summary
