"""Reading one incoming email, defensively: everything in it is hostile until checked.

``parse_email`` turns raw RFC 5322 bytes into a ``ParsedMail``: the ids that
thread it, the sender, the text, the files, and whether a machine sent it
(RFC 3834). It never raises on odd content (bad charsets, broken headers,
HTML-only bodies); it refuses only what can never become a ticket message:
an oversized message (``PayloadTooLarge``, so the MTA bounces it) and input
that is not an email at all (``InvalidInput``).
"""

from __future__ import annotations

import email.errors
import email.header
import email.policy
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from keyholder.config import Settings
from keyholder.desk.addresses import desk_mailbox
from keyholder.desk.htmltext import html_to_text
from keyholder.errors import InvalidInput, PayloadTooLarge
from keyholder.identity.emails import normalize_email

# A whole message may hold a few attachments at their size limit, base64-encoded
# (4/3 larger) and the text around them: three times the attachment limit.
MESSAGE_SIZE_FACTOR = 3
MAX_FILES = 20  # more parts than this are kept in the raw email only
_MAX_DEPTH = 10  # nested multiparts deeper than this are not worth walking
_MAX_ID = 900  # characters; a longer "Message-ID" is junk (the column holds 998)
_MAX_IDS = 100  # References entries looked at
_HEADER_ERRORS = (ValueError, TypeError, LookupError, AttributeError, email.errors.MessageError)
_MSG_ID = re.compile(r"<[^<>\s\x00-\x1f\x7f]{1,900}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANGLE_ADDRESS = re.compile(r"(.*)<([^<>\s]+@[^<>\s]+)>", re.DOTALL)  # Name <local@domain>
_PLAIN_ADDRESS = re.compile(r"[^\s@<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9.-]{1,253}")
# Trace headers an MTA adds on each delivery: left out of a derived Message-ID,
# so a re-delivery of the same message gets the same one.
_TRACE_HEADERS = frozenset(
    {b"received", b"return-path", b"delivered-to", b"x-original-to", b"x-envelope-to"}
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_ROBOT_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_REPORT_PARTS = frozenset(
    {"message/delivery-status", "message/disposition-notification", "text/rfc822-headers"}
)


def max_message_bytes(settings: Settings) -> int:
    """The largest email the desk accepts, in bytes (the listener announces it as SIZE)."""
    return settings.attachment_max_bytes * MESSAGE_SIZE_FACTOR


@dataclass(frozen=True, slots=True)
class IncomingFile:
    filename: str
    content_type: str  # as the sender declared it: for messages to people only
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedMail:
    raw: bytes
    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: str  # the From address, normalised
    sender_name: str
    recipients: tuple[str, ...]  # envelope recipients, then To, Cc, Delivered-To
    automated: str | None  # why a machine sent it (RFC 3834), or None for a person
    body: str
    files: tuple[IncomingFile, ...]
    skipped_files: tuple[str, ...]  # names of parts over MAX_FILES or unreadable


def clean_line(text: str, limit: int = 200) -> str:
    """One line of printable text (names and subjects from headers end up in emails: S37)."""
    return " ".join(_CONTROL.sub(" ", safe_text(text)).split())[:limit]


def safe_text(text: str) -> str:
    """``text`` storable in any database: no NUL, no lone surrogates."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def parse_email(
    raw: bytes,
    *,
    settings: Settings,
    envelope_recipients: Sequence[str] = (),
    envelope_sender: str | None = None,
) -> ParsedMail:
    """Read ``raw``; raises ``PayloadTooLarge`` or ``InvalidInput`` if it can never be taken."""
    if len(raw) > max_message_bytes(settings):
        raise PayloadTooLarge(
            f"the message is {len(raw)} bytes; the support desk takes at most "
            f"{max_message_bytes(settings)}"
        )
    if not raw.strip():
        raise InvalidInput("the message is empty")
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    if not message.keys():
        raise InvalidInput("no headers: this is not an email message")
    sender_name, sender = _sender(message, envelope_sender)
    ids = _ids(_header(message, "Message-ID"))
    body, files, skipped = _content(message)
    return ParsedMail(
        raw=raw,
        message_id=ids[0] if ids else _derived_message_id(raw),
        in_reply_to=tuple(_ids(_header(message, "In-Reply-To"))),
        references=tuple(_ids(_header(message, "References"))[-_MAX_IDS:]),
        subject=clean_line(_header(message, "Subject"), 300),
        sender=sender,
        sender_name=clean_line(sender_name),
        recipients=_recipients(message, envelope_recipients),
        automated=_automation(message, sender, envelope_sender, settings),
        body=body,
        files=tuple(files),
        skipped_files=tuple(skipped),
    )


# --- headers -------------------------------------------------------------------------


def _headers(message: Message, name: str) -> list[str]:
    """Every value of header ``name``, decoded; a header the parser chokes on, raw."""
    try:
        return [str(value) for value in message.get_all(name, [])]
    except _HEADER_ERRORS:
        values = [v for k, v in message.raw_items() if k.lower() == name.lower()]
        return [_decode_words(str(v)) for v in values]


def _header(message: Message, name: str) -> str:
    values = _headers(message, name)
    return values[0] if values else ""


def _decode_words(raw: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(raw)))
    except _HEADER_ERRORS:
        return raw


def _ids(value: str) -> list[str]:
    found = _MSG_ID.findall(value)
    if not found and value.strip() and len(value.strip()) <= _MAX_ID and " " not in value.strip():
        found = [f"<{value.strip().strip('<>')}>"]  # a bare id some software sends
    return [safe_text(i) for i in found]


def _derived_message_id(raw: bytes) -> str:
    """A stable id for a message without one: the same message always gets the same one."""
    digest = hashlib.sha256()
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    keep = True
    for line in head.split(b"\n"):
        if line[:1] not in {b" ", b"\t"}:  # a new header, not a continuation line
            keep = line.split(b":", 1)[0].strip().lower() not in _TRACE_HEADERS
        if keep:
            digest.update(line + b"\n")
    digest.update(b"\n" + body)
    return f"<sha256-{digest.hexdigest()}@keyholder.invalid>"


def normalise_address(address: str) -> str | None:
    """The address as users are keyed (case-folded), or None if it is not an address."""
    candidate = safe_text(address).strip()
    try:
        return normalize_email(candidate)
    except InvalidInput:
        # Valid mail can come from names email-validator refuses (intranet domains);
        # keep such an address if it is plainly one.
        return candidate.casefold() if _PLAIN_ADDRESS.fullmatch(candidate) else None


def _raw_header(message: Message, name: str) -> str:
    """The first ``name`` header as it came, unfolded, encoded words left encoded."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return re.sub(r"\r?\n[ \t]", " ", str(value))
    return ""


def _address_of(message: Message, name: str) -> tuple[str, str | None]:
    try:
        header = message[name]
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        if addresses:
            return addresses[0].display_name, normalise_address(addresses[0].addr_spec)
    except _HEADER_ERRORS:
        pass  # e.g. an encoded line break in the name: parse it raw, decode the name after
    raw = _raw_header(message, name)
    angle = _ANGLE_ADDRESS.fullmatch(raw.strip())
    display, address = (angle.group(1), angle.group(2)) if angle else parseaddr(raw)
    return _decode_words(display.strip().strip('"')), (
        normalise_address(address) if address else None
    )


def _sender(message: Message, envelope_sender: str | None) -> tuple[str, str]:
    for name in ("From", "Sender"):
        display, address = _address_of(message, name)
        if address:
            return display, address
    address = normalise_address(envelope_sender) if envelope_sender else None
    if address:
        return "", address
    raise InvalidInput("the message names no sender (From)")


def _recipients(message: Message, envelope: Sequence[str]) -> tuple[str, ...]:
    headers = [
        v for name in ("To", "Cc", "Delivered-To", "X-Original-To") for v in _headers(message, name)
    ]
    found = [address for address in envelope if address]
    found += [address for _, address in getaddresses(headers) if address]
    return tuple(dict.fromkeys(safe_text(a) for a in found[:_MAX_IDS]))


def _automation(
    message: Message, sender: str, envelope_sender: str | None, settings: Settings
) -> str | None:
    """Why this message looks machine-made (RFC 3834 and common practice), or None."""
    return next(_automation_signs(message, sender, envelope_sender, settings), None)


def _automation_signs(
    message: Message, sender: str, envelope_sender: str | None, settings: Settings
) -> Iterator[str]:
    auto = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto and auto != "no":
        yield f"Auto-Submitted: {clean_line(auto, 40)}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        yield f"Precedence: {precedence}"
    # X-Auto-Response-Suppress asks for no auto-reply (Exchange sets it on its own
    # robots' mail); List-Id is list traffic, which RFC 3834 says not to answer.
    for name in ("X-Auto-Response-Suppress", "X-Autoreply", "X-Autorespond", "List-Id"):
        if name in message:
            yield f"{name} header"
    if message.get_content_type() == "multipart/report":
        yield "a delivery or read report (multipart/report)"
    if any(not path.strip().strip("<>").strip() for path in _headers(message, "Return-Path")):
        yield "empty Return-Path (a bounce)"
    if envelope_sender is not None and not envelope_sender.strip().strip("<>").strip():
        yield "empty envelope sender (a bounce)"
    local, _, domain = sender.partition("@")
    if local in _ROBOT_SENDERS:
        yield f"sent by {local}"
    _, desk_local, desk_domain = desk_mailbox(settings)
    if domain == desk_domain.lower() and local.split("+")[0] == desk_local.lower():
        yield "sent from the desk's own address (a mail loop)"


# --- content -------------------------------------------------------------------------


def _leaves(part: Message, depth: int = 0) -> Iterator[Message]:
    """The non-multipart parts, in order; an attached message counts as one part."""
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        if depth >= _MAX_DEPTH:
            return
        for child in part.get_payload():
            if isinstance(child, Message):
                yield from _leaves(child, depth + 1)
    else:
        yield part


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset() or "utf-8"
    except _HEADER_ERRORS:
        charset = "utf-8"
    text: str | None = None
    # Declared charset first; then UTF-8 (mislabelled mail is common); never fail.
    for candidate, errors in ((charset, "strict"), ("utf-8", "strict"), (charset, "replace")):
        try:
            text = payload.decode(candidate, errors)
            break
        except (LookupError, UnicodeDecodeError, ValueError):
            # ValueError: a charset name the codec registry cannot even look up
            # (a NUL in it); LookupError: unknown, or not a text codec (zlib).
            continue
    if text is None:
        text = payload.decode("utf-8", "replace")
    return safe_text(text).replace("\r\n", "\n").replace("\r", "\n")


def _disposition(part: Message) -> tuple[str | None, str | None]:
    try:
        return part.get_filename(), part.get_content_disposition()
    except _HEADER_ERRORS:
        return None, None


def _file_of(part: Message, filename: str | None) -> IncomingFile | None:
    content_type = part.get_content_type()
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        if not isinstance(inner, list) or not inner or not isinstance(inner[0], Message):
            return None
        try:
            data = inner[0].as_bytes()
        except _HEADER_ERRORS:
            return None
        return IncomingFile(clean_line(filename or "message.eml", 255), content_type, data)
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    # Only the last path component: a name is for display (S34). Without a name,
    # the attachment rules give the file the extension its content calls for.
    name = re.split(r"[\\/]", clean_line(filename or "", 1000))[-1][:255] or "attachment"
    return IncomingFile(name, content_type, payload)


def _content(message: EmailMessage) -> tuple[str, list[IncomingFile], list[str]]:
    try:
        body_part = message.get_body(preferencelist=("plain", "html"))
    except _HEADER_ERRORS:
        body_part = None
    body = ""
    if body_part is not None:
        text = _text_of(body_part)
        body = html_to_text(text) if body_part.get_content_subtype() == "html" else text
    files: list[IncomingFile] = []
    skipped: list[str] = []
    for part in _leaves(message):
        if part is body_part or part.get_content_type() in _REPORT_PARTS:
            continue
        filename, disposition = _disposition(part)
        if part.get_content_maintype() == "text" and not filename and disposition != "attachment":
            continue  # the other alternative of the body, or text the raw email keeps
        file = _file_of(part, filename)
        if file is None or len(files) >= MAX_FILES:
            skipped.append(clean_line(filename or part.get_content_type(), 100))
            continue
        files.append(file)
    return body, files, skipped
