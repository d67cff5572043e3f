"""Queueing emails in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import select

from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import InvalidInput
from keyholder.mail.models import OutboxMessage, OutboxStatus
from keyholder.mail.templates import render

# Every line break str.splitlines() knows, not only CR and LF: the email package
# refuses them all in headers, so a row holding one could never be sent.
_LINE_BREAKS = frozenset("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def enqueue_email(
    tx: Tx,
    *,
    kind: str,
    to: Sequence[str],
    subject: str,
    body: str,
    html: str | None = None,
    holds_secret: bool = False,
    mail_from: str | None = None,
    headers: Mapping[str, str] | None = None,
    auto_submitted: bool = True,
) -> OutboxMessage:
    """Add an email to the outbox; it leaves only if the transaction commits.

    ``holds_secret`` marks a body with a secret link (a one-time token, or a
    ticket link that opens a thread without signing in): the relay blanks it
    once delivered or given up. ``auto_submitted`` marks a machine-made
    notification (RFC 3834) as opposed to words a person wrote; ``headers``
    adds threading and routing headers (Reply-To, In-Reply-To, References).
    """
    if not to:
        raise InvalidInput("an email needs at least one recipient")
    if any("," in address or "@" not in address for address in to):
        raise InvalidInput("each recipient must be one plain email address")
    extra = dict(headers or {})
    if auto_submitted:
        extra["Auto-Submitted"] = "auto-generated"
    for value in (subject, *to, *extra, *extra.values()):
        # Header values come partly from users (names, addresses): no smuggled headers.
        if not _LINE_BREAKS.isdisjoint(value):
            raise InvalidInput("line breaks are not allowed in email headers")
    settings = tx.settings
    now = tx.clock.now()
    domain = parseaddr(mail_from or settings.mail_from)[1].rpartition("@")[2] or "keyholder.invalid"
    message = OutboxMessage(
        kind=kind,
        message_id=make_msgid(domain=domain),
        mail_from=mail_from or settings.mail_from,
        recipients=list(to),
        subject=subject,
        body=body,
        body_html=html,
        headers=extra,
        holds_secret=holds_secret,
        status=OutboxStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        request_id=tx.context.request_id,
    )
    tx.session.add(message)
    if tx.mail_queued is not None:
        tx.after_commit(tx.mail_queued.set)  # wakes an in-process relay
    return message


def send_templated_email(
    tx: Tx,
    name: str,
    /,
    *,
    to: Sequence[str],
    holds_secret: bool = False,
    mail_from: str | None = None,
    headers: Mapping[str, str] | None = None,
    auto_submitted: bool = True,
    **context: object,
) -> OutboxMessage:
    """Render the email ``name`` (keyholder/mail/templates) and queue it, text and HTML."""
    subject, text, html = render(name, **context)
    return enqueue_email(
        tx,
        kind=name,
        to=to,
        subject=subject,
        body=text,
        html=html,
        holds_secret=holds_secret,
        mail_from=mail_from,
        headers=headers,
        auto_submitted=auto_submitted,
    )


def to_email_message(row: OutboxMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"] = row.mail_from
    message["To"] = ", ".join(row.recipients)
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    # Rows from before the headers column were all automatic notifications.
    headers = row.headers if row.headers is not None else {"Auto-Submitted": "auto-generated"}
    for name, value in headers.items():
        message[name] = value
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
