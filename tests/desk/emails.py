"""Incoming emails for the desk's tests, built as a mail client would send them."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import make_msgid

from PIL import Image

from keyholder.bootstrap import Runtime
from keyholder.desk.addresses import reply_address
from keyholder.desk.inbound import Received, receive_email

CUSTOMER = "carol@customer.example"
DESK = "support@keyholder.localhost"


def build_email(
    *,
    sender: str = f"Carol Customer <{CUSTOMER}>",
    to: str = DESK,
    subject: str = "The export button does nothing",
    body: str = "Hello,\n\nthe export button does nothing.\n\nCarol\n",
    message_id: str | None = "new",
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    html: str | None = None,
    files: Sequence[tuple[str, str, bytes]] = (),
) -> bytes:
    """An RFC 5322 message; ``message_id=None`` leaves the header out, "new" makes one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Thu, 15 Jan 2026 12:00:00 +0000"
    if message_id is not None:
        message["Message-ID"] = (
            make_msgid(domain="customer.example") if message_id == "new" else message_id
        )
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = value
    if html is not None and not body:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def reply_to(
    received: EmailMessage, *, body: str = "Thanks, it still fails.\n", **kw: object
) -> bytes:
    """The customer's reply to an email they got from the desk, as a mail client builds it."""
    references = [*str(received.get("References", "")).split(), str(received["Message-ID"])]
    return build_email(
        to=str(received["Reply-To"]),
        subject=f"Re: {received['Subject']}",
        body=body,
        in_reply_to=str(received["Message-ID"]),
        references=references,
        **kw,  # type: ignore[arg-type]
    )


def receive(runtime: Runtime, raw: bytes, **kw: object) -> Received:
    return receive_email(runtime.uow(), raw, **kw)  # type: ignore[arg-type]


def plus_address(runtime: Runtime, number: int) -> str:
    return reply_address(runtime.settings, number)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()
