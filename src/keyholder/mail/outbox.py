"""Queueing emails in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import select

from keyholder.db.uow import UnitOfWork
from keyholder.errors import InvalidInput
from keyholder.mail.models import OutboxMessage, OutboxStatus
from keyholder.mail.templates import render

# Every line break str.splitlines() knows, not only CR and LF: the email package
# refuses them all in headers, so a row holding one could never be sent.
_LINE_BREAKS = frozenset("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def enqueue_email(
    uow: UnitOfWork,
    *,
    kind: str,
    to: Sequence[str],
    subject: str,
    body: str,
    html: str | None = None,
    holds_secret: bool = False,
) -> OutboxMessage:
    """Add an email to the outbox; it leaves only if the transaction commits.

    ``holds_secret`` marks a body with a one-time link: the relay blanks it
    once delivered or given up.
    """
    if not to:
        raise InvalidInput("an email needs at least one recipient")
    if any("," in address or "@" not in address for address in to):
        raise InvalidInput("each recipient must be one plain email address")
    for value in (subject, *to):
        # Header values come partly from users (names, addresses): no smuggled headers.
        if not _LINE_BREAKS.isdisjoint(value):
            raise InvalidInput("line breaks are not allowed in email headers")
    settings = uow.settings
    now = uow.clock.now()
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "keyholder.invalid"
    message = OutboxMessage(
        kind=kind,
        message_id=make_msgid(domain=domain),
        mail_from=settings.mail_from,
        recipients=list(to),
        subject=subject,
        body=body,
        body_html=html,
        holds_secret=holds_secret,
        status=OutboxStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    uow.session.add(message)
    if uow.mail_queued is not None:
        uow.after_commit(uow.mail_queued.set)  # wakes an in-process relay
    return message


def send_templated_email(
    uow: UnitOfWork,
    name: str,
    /,
    *,
    to: Sequence[str],
    holds_secret: bool = False,
    **context: object,
) -> OutboxMessage:
    """Render the email ``name`` (keyholder/mail/templates) and queue it, text and HTML."""
    subject, text, html = render(name, **context)
    return enqueue_email(
        uow, kind=name, to=to, subject=subject, body=text, html=html, holds_secret=holds_secret
    )


def to_email_message(row: OutboxMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"] = row.mail_from
    message["To"] = ", ".join(row.recipients)
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    if row.body_html is not None:
        message.add_alternative(row.body_html, subtype="html")
    return message


def list_outbox(
    uow: UnitOfWork, *, status: OutboxStatus | None = None, limit: int = 50
) -> Sequence[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    with uow:
        return uow.session.scalars(query).all()
