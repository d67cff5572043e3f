"""The letter pre-screen of each confirmed request, as a background job (it takes seconds).

The pre-screen runs in a sandboxed child process (time and memory limits,
S33) outside any transaction; its report and evidence are then saved on the
request if it still waits for them. Two workers may screen the same letter
at once: the second finds the work done and drops its copy, so the outcome is
the same, only some CPU is spent twice.

The reading itself is an adapter, ``LetterScreener``: the runtime's
(``Runtime.letter_screener``, built by ``bootstrap``) runs the letters package
in the sandbox; the worker hands it to ``prescreen_due``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from keyholder import metrics
from keyholder.access import evidence
from keyholder.access.evidence import Check, Item, Status, executives_on_record
from keyholder.access.lifecycle import lock_request
from keyholder.access.models import AccessRequest
from keyholder.accounts.models import EnterpriseAccount
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import request_target
from keyholder.desk.blobs import load_blob, store_blob
from keyholder.errors import KeyholderError
from keyholder.identity.actor import Actor

if TYPE_CHECKING:
    from keyholder.config import Settings
    from keyholder.db.uow import UnitOfWorkFactory
    from keyholder.letters import AccountRecords, LetterReport, TypedFields

SCREENER = Actor(label="worker:letter-prescreen")
SOURCE = "letter pre-screen"


@dataclass(frozen=True, slots=True)
class _Work:
    request_id: uuid.UUID
    letter: bytes
    filename: str
    typed: TypedFields
    records: AccountRecords | None
    today: date


class LetterScreener(Protocol):
    def screen(
        self,
        letter: bytes,
        *,
        typed: TypedFields,
        records: AccountRecords | None,
        today: date,
        filename: str,
    ) -> LetterReport:
        """Read the letter (with an annotated PNG); ``KeyholderError`` when it cannot be."""
        ...


class SandboxedLetterScreener:
    """The letters package in a child process with time and memory limits (S33)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def screen(
        self,
        letter: bytes,
        *,
        typed: TypedFields,
        records: AccountRecords | None,
        today: date,
        filename: str,
    ) -> LetterReport:
        # The letters stack (OpenCV, NumPy, PDFium) loads here, not when the CLI starts.
        from keyholder.letters import prescreen_in_subprocess  # noqa: PLC0415

        return prescreen_in_subprocess(
            letter,
            typed=typed,
            records=records,
            settings=self._settings,
            today=today,
            filename=filename,
            annotated=True,
        )


def prescreen_due(uows: UnitOfWorkFactory, *, screener: LetterScreener, limit: int = 5) -> int:
    """Pre-screen the letters of requests waiting for it; returns how many were done."""
    with uows(read_only=True) as uow:
        due = uow.session.scalars(
            select(AccessRequest.id)
            .where(AccessRequest.prescreen_due.is_(True))
            .order_by(AccessRequest.created_at)
            .limit(limit)
        ).all()
    return sum(prescreen_request(uows, request_id, screener=screener) for request_id in due)


def prescreen_request(
    uows: UnitOfWorkFactory, request_id: uuid.UUID, *, screener: LetterScreener
) -> bool:
    """Screen one request's letter and keep the result; False if nothing was waiting."""
    work = _gather(uows, request_id)
    if work is None:
        return False
    started = time.perf_counter()
    try:
        report = screener.screen(
            work.letter,
            typed=work.typed,
            records=work.records,
            today=work.today,
            filename=work.filename,
        )
        outcome: LetterReport | str = report
    except KeyholderError as exc:  # unreadable, too big, too slow: the reviewer must know
        outcome = exc.detail
    metrics.prescreen_finished(time.perf_counter() - started, read=not isinstance(outcome, str))
    with uows() as uow:
        request = lock_request(uow, request_id)
        if not request.prescreen_due:
            return False  # another worker saved its result first
        request.prescreen_due = False
        if isinstance(outcome, str):
            request.prescreen = {"error": outcome}
            items = [Item(Check.LETTER, Status.UNKNOWN, SOURCE, f"not screened: {outcome}")]
        else:
            saved: dict[str, Any] = dict(outcome.json)
            if outcome.annotated_png:
                saved["annotated_png_sha256"] = store_blob(uow, outcome.annotated_png)
            request.prescreen = saved
            items = letter_items(outcome.json)
        evidence.record(request, items)
        record_event(
            uow,
            actor=SCREENER,
            action=AuditAction.ACCESS_REQUEST_PRESCREEN,
            target=request_target(request.id),
            after={"letter": next(i.status.value for i in items if i.check == Check.LETTER)},
        )
        uow.commit()
    return True


def _gather(uows: UnitOfWorkFactory, request_id: uuid.UUID) -> _Work | None:
    from keyholder.letters import AccountRecords, ExecutiveContact, TypedFields  # noqa: PLC0415

    with uows(read_only=True) as uow:
        request = uow.session.get(AccessRequest, request_id)
        if request is None or not request.prescreen_due:
            return None
        account = (
            uow.session.get(EnterpriseAccount, request.account_id) if request.account_id else None
        )
        records = None
        if account is not None:
            records = AccountRecords(
                name=account.name,
                display_name=account.display_name,
                contract_number=account.contract_number,
                verified_domains=tuple(d.domain for d in account.domains if d.verified_at),
                # Only executives that count for recovery (S22): a name an admin put
                # on record yesterday is no record to check a letter against.
                executive_contacts=tuple(
                    ExecutiveContact(c.name, c.title, c.email)
                    for c in executives_on_record(
                        account, now=uow.clock.now(), min_age=uow.settings.access_contact_min_age
                    )
                ),
            )
        return _Work(
            request_id=request.id,
            letter=load_blob(uow, request.letter_sha256),
            filename=request.letter_filename,
            typed=TypedFields(
                account_name=request.account_name,
                email_to_add=request.email_to_add,
                contract_number=request.contract_number,
                executive_name=request.executive_name,
                executive_title=request.executive_title,
                executive_email=request.executive_email,
                reason=request.reason,
            ),
            records=records,
            today=uow.clock.now().date(),
        )


def letter_items(report: dict[str, Any]) -> list[Item]:
    """One evidence item per check of the letter, and a summary item (``letter``)."""
    items = [
        Item(
            f"letter_{check['id']}",
            Status(check["status"]),
            SOURCE,
            f"{check['label']}: {check['evidence']}",
        )
        for check in report["checks"]
    ]
    statuses = {item.status for item in items}
    overall = (
        Status.FAIL
        if Status.FAIL in statuses
        else Status.UNKNOWN
        if Status.UNKNOWN in statuses
        else Status.PASS
    )
    counts = ", ".join(
        f"{sum(1 for i in items if i.status is s)} {s.value}"
        for s in (Status.FAIL, Status.UNKNOWN, Status.PASS)
    )
    signature = report.get("signature") or {}
    # Reports stored before verdicts were worded have only the level.
    level = signature.get("verdict") or signature.get("level") or "not found"
    items.append(
        Item(
            Check.LETTER,
            overall,
            SOURCE,
            f"{counts}; signature: {level} (detects ink, not who signed)",
        )
    )
    return items
