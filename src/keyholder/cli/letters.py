"""keyholder letters check FILE [--account NAME] [--json]"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
from keyholder.errors import PayloadTooLarge

if TYPE_CHECKING:
    from keyholder.letters import AccountRecords

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
    file: Path = typer.Argument(..., help="The letter: a PDF, PNG or JPEG file."),
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
        None, "--annotated", help="Write the annotated page image (PNG) here."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Pre-screen a letter: find its items, check them, look for a signature."""
    # Imported here: OpenCV, NumPy and PDFium would slow every other command's start.
    from keyholder.letters import PRESENCE_NOTE, TypedFields  # noqa: PLC0415
    from keyholder.letters.sandbox import prescreen_in_subprocess  # noqa: PLC0415

    rt = runtime()
    settings = rt.settings
    try:
        with file.open("rb") as handle:
            data = handle.read(settings.letters_max_bytes + 1)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    if len(data) > settings.letters_max_bytes:
        raise PayloadTooLarge(f"a letter may be at most {settings.letters_max_bytes} bytes")
    records = None
    if account is not None:
        loaded = accounts_service.get_account(rt.uow(read_only=True), account, actor=operator())
        records = account_records(loaded)
    report = prescreen_in_subprocess(
        data,
        typed=TypedFields(
            account_name=account, email_to_add=email_to_add, contract_number=contract,
            executive_email=executive_email,
        ),
        records=records,
        settings=settings,
        today=rt.clock.now().date(),
        filename=file.name,
        annotated=annotated is not None,
    )  # fmt: skip
    if annotated is not None and report.annotated_png is not None:
        annotated.write_bytes(report.annotated_png)
    if as_json:
        print_json(report.json)
        return
    print_table(
        ["check", "status", "evidence"],
        [(c["label"], c["status"], c["evidence"]) for c in report.json["checks"]],
    )
    typer.echo(f"signature: {report.signature_verdict} ({PRESENCE_NOTE})")
