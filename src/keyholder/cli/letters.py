"""keyholder letters check FILE... [--account NAME] [--json]"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from keyholder.accounts import service as accounts_service
from keyholder.accounts.models import ContactKind, EnterpriseAccount
from keyholder.cli.common import (
    JsonOption,
    fail,
    handle_errors,
    operator,
    print_json,
    print_table,
    runtime,
)
from keyholder.errors import KeyholderError, PayloadTooLarge

if TYPE_CHECKING:
    from keyholder.letters import AccountRecords, LetterReport, TypedFields

app = typer.Typer(help="Letter pre-screening.", no_args_is_help=True)


def account_records(account: EnterpriseAccount) -> AccountRecords:
    """What the pre-screen compares a letter with, from an account loaded with its
    domains and contacts (``accounts.service.get_account``)."""
    from keyholder.letters import AccountRecords, ExecutiveContact  # noqa: PLC0415 - see check()

    return AccountRecords(
        name=account.name,
        display_name=account.display_name,
        contract_number=account.contract_number,
        verified_domains=tuple(d.domain for d in account.domains if d.verified_at is not None),
        executive_contacts=tuple(
            ExecutiveContact(c.name, c.title, c.email)
            for c in account.contacts
            if c.kind is ContactKind.EXECUTIVE
        ),
    )


@app.command("check")
@handle_errors
def check(
    files: list[Path] = typer.Argument(..., help="The letters: PDF, PNG or JPEG files."),
    *,
    account: str | None = typer.Option(
        None, "--account", help="Compare with this account's records."
    ),
    email_to_add: str | None = typer.Option(
        None, "--email-to-add", help="The email typed in the request."
    ),
    contract: str | None = typer.Option(
        None, "--contract", help="The contract number typed in the request."
    ),
    executive_email: str | None = typer.Option(
        None, "--executive-email", help="The executive's email typed in the request."
    ),
    annotated: Path | None = typer.Option(
        None, "--annotated", help="Write the annotated page image (PNG) here (one letter only)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Pre-screen letters: find their items, check them, look for a signature.

    With several files, each is checked in turn (a progress bar on a terminal);
    one that cannot be read is reported and the others are still checked.
    """
    # Imported here: OpenCV, NumPy and PDFium would slow every other command's start.
    from keyholder.letters import PRESENCE_NOTE, TypedFields  # noqa: PLC0415

    if annotated is not None and len(files) > 1:
        fail("--annotated takes one letter: check the files one at a time to get each image")
    rt = runtime()
    records = None
    if account is not None:
        loaded = accounts_service.get_account(rt.uow(read_only=True), account, actor=operator())
        records = account_records(loaded)
    typed = TypedFields(
        account_name=account, email_to_add=email_to_add, contract_number=contract,
        executive_email=executive_email,
    )  # fmt: skip
    if len(files) == 1:
        try:
            report = _prescreen(files[0], typed, records, annotated=annotated is not None)
        except _Unreadable as exc:
            fail(str(exc))
        if annotated is not None and report.annotated_png is not None:
            annotated.write_bytes(report.annotated_png)
        if as_json:
            print_json(report.json)
            return
        _print_report(report.json, report.signature_verdict, PRESENCE_NOTE)
        return
    _check_many(files, typed, records, as_json=as_json, note=PRESENCE_NOTE)


def _check_many(
    files: list[Path],
    typed: TypedFields,
    records: AccountRecords | None,
    *,
    as_json: bool,
    note: str,
) -> None:
    from keyholder.cli.progress import progress_bar  # noqa: PLC0415

    results: list[dict[str, Any]] = []
    failed = 0
    # A pre-screen takes a second or more: any batch is worth a bar.
    with progress_bar(f"Checking {len(files)} letters", len(files), long_run=1) as advance:
        for path in files:
            try:
                report = _prescreen(path, typed, records, annotated=False)
            except (KeyholderError, _Unreadable) as exc:
                failed += 1
                results.append({"file": str(path), "error": str(exc)})
                if not as_json:
                    typer.echo(f"== {path}: {exc}", err=True)
            else:
                results.append({"file": str(path), "report": report.json})
                if not as_json:
                    typer.echo(f"== {path}")
                    _print_report(report.json, report.signature_verdict, note)
            if advance is not None:
                advance()
    if as_json:
        print_json(results)
    if failed:
        fail(f"{failed} of {len(files)} letters could not be checked")


class _Unreadable(Exception):
    """A file that cannot be read (a batch reports it and goes on)."""


def _prescreen(
    path: Path, typed: TypedFields, records: AccountRecords | None, *, annotated: bool
) -> LetterReport:
    from keyholder.letters.sandbox import prescreen_in_subprocess  # noqa: PLC0415

    rt = runtime()
    settings = rt.settings
    try:
        with path.open("rb") as handle:
            data = handle.read(settings.letters_max_bytes + 1)
    except OSError as exc:
        raise _Unreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > settings.letters_max_bytes:
        raise PayloadTooLarge(f"a letter may be at most {settings.letters_max_bytes} bytes")
    return prescreen_in_subprocess(
        data,
        typed=typed,
        records=records,
        settings=settings,
        today=rt.clock.now().date(),
        filename=path.name,
        annotated=annotated,
    )


def _print_report(report: dict[str, Any], verdict: str, note: str) -> None:
    print_table(
        ["check", "status", "evidence"],
        [(c["label"], c["status"], c["evidence"]) for c in report["checks"]],
    )
    typer.echo(f"signature: {verdict} ({note})")
