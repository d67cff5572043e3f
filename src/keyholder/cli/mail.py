"""keyholder mail …"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

import typer
from sqlalchemy.exc import DBAPIError

from keyholder.cli.common import (
    JsonOption,
    database_problem,
    fail,
    handle_errors,
    print_json,
    print_table,
    runtime,
)
from keyholder.cli.db import require_current_schema
from keyholder.desk.inbound import Received, receive_email
from keyholder.desk.mailparse import max_message_bytes
from keyholder.errors import InvalidInput, KeyholderError, PayloadTooLarge
from keyholder.mail.models import OutboxMessage, OutboxStatus
from keyholder.mail.outbox import list_outbox

if TYPE_CHECKING:
    from keyholder.desk.listener import MailListener

app = typer.Typer(help="Outgoing email, and support mail coming in.", no_args_is_help=True)

# sysexits.h, which MTAs (Postfix pipe, Exim, sendmail) read from delivery commands.
EX_DATAERR = 65  # the message can never be accepted: the MTA bounces it
EX_TEMPFAIL = 75  # try again later: the MTA keeps the message and retries


@app.command("outbox")
@handle_errors
def outbox(
    status: OutboxStatus | None = typer.Option(None, "--status"),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    full: bool = typer.Option(False, "--full", help="Print whole messages."),
    as_json: bool = JsonOption,
) -> None:
    """Show queued and sent emails, newest first (readable without SMTP in development)."""
    messages = list_outbox(runtime().uow(read_only=True), status=status, limit=limit)
    if as_json:
        print_json([_message_json(m) for m in messages])
    elif full:
        for m in messages:
            typer.echo(f"--- #{m.id} {m.status} {m.message_id}")
            typer.echo(f"To: {', '.join(m.recipients)}\nSubject: {m.subject}\n\n{m.body}")
    else:
        print_table(
            ["id", "status", "kind", "to", "subject"],
            [(m.id, m.status, m.kind, m.recipients, m.subject) for m in messages],
        )


def _message_json(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind,
        "status": message.status,
        "to": message.recipients,
        "subject": message.subject,
        "body": message.body,
        "message_id": message.message_id,
        "created_at": message.created_at.isoformat(),
        "attempts": message.attempts,
        "last_error": message.last_error,
    }


@app.command("send")
@handle_errors
def send() -> None:
    """Deliver every due message now, then exit."""
    relay = runtime().relay()
    if relay is None:
        fail("KEYHOLDER_SMTP_URL is not set; messages stay in the outbox")
    result = relay.run_until_idle()
    typer.echo(f"{result.sent} sent, {result.retrying} to retry, {result.failed} failed")


@app.command("receive")
def receive(
    recipient: list[str] = typer.Option(
        [], "--recipient", help="An envelope recipient (repeatable), e.g. Postfix's ${recipient}."
    ),
    sender: str | None = typer.Option(
        None, "--sender", help="The envelope sender (empty for a bounce), e.g. ${sender}."
    ),
    as_json: bool = JsonOption,
) -> None:
    """File one email read on stdin on its support ticket (for an MTA pipe, like RT's mailgate).

    Prints what happened, e.g. "ticket #12: created". The exit status follows
    sysexits, as MTAs expect: 0 accepted (duplicates and automated mail too,
    which need no retry); 65 (EX_DATAERR) never acceptable: too big or not an
    email, so the MTA bounces it; 75 (EX_TEMPFAIL) a temporary failure, such as
    an unreachable database or a configuration error, so the MTA keeps the
    message and tries again later.
    """
    try:
        rt = runtime()
    except typer.Exit:
        raise typer.Exit(EX_TEMPFAIL) from None  # the configuration: fixable, so retry later
    limit = max_message_bytes(rt.settings)
    stdin = sys.stdin.buffer
    raw = stdin.read(limit + 1)
    if len(raw) > limit:
        while stdin.read(1 << 16):
            pass  # read it all: an MTA whose pipe write fails may not read our status
    try:
        received = receive_email(
            rt.uow(), raw, envelope_recipients=recipient, envelope_sender=sender
        )
    except (PayloadTooLarge, InvalidInput) as exc:
        fail(exc.detail, EX_DATAERR)
    except DBAPIError as exc:
        fail(f"{database_problem(exc)}; the mail system should try again later", EX_TEMPFAIL)
    except KeyholderError as exc:  # e.g. a clash with a concurrent delivery
        fail(f"{exc.detail}; the mail system should try again later", EX_TEMPFAIL)
    except Exception:
        # A bug: the MTA keeps the message and retries, so it is not lost meanwhile.
        logging.getLogger(__name__).exception("could not file the message")
        raise typer.Exit(EX_TEMPFAIL) from None
    if as_json:
        print_json(_received_json(received))
    else:
        typer.echo(received.describe())


def _received_json(received: Received) -> dict[str, Any]:
    return {
        "outcome": received.outcome.value,
        "ticket": received.ticket,
        "message_id": received.message_id,
        "follow_up_of": received.follow_up_of,
        "reason": received.reason,
        "refused_files": list(received.refused_files),
    }


@app.command("listen")
@handle_errors
def listen(
    host: str | None = typer.Option(
        None, "--host", help="Address to listen on [default: KEYHOLDER_MAIL_LISTEN_HOST]."
    ),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="[default: KEYHOLDER_MAIL_LISTEN_PORT]"
    ),
    lmtp: bool = typer.Option(False, "--lmtp", help="Speak LMTP (RFC 2033) instead of SMTP."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Listen on a non-loopback address (mind: no auth, no TLS)."
    ),
) -> None:
    """Receive support mail from the local MTA over SMTP (or LMTP) until SIGTERM or Ctrl-C.

    Replies: 250 filed; 451 temporary failure (the MTA retries); 552 too big;
    550 not an email, or a recipient outside the desk's domain. The listener
    has no authentication or TLS, so it refuses non-loopback addresses unless
    --allow-remote is given.
    """
    rt = runtime()
    host = host or rt.settings.mail_listen_host
    port = port or rt.settings.mail_listen_port
    if not allow_remote and not _is_loopback(host):
        fail(
            f"{host} is not a loopback address; the listener has no authentication or TLS "
            "(use --allow-remote if the network in front of it is trusted)"
        )
    require_current_schema()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # aiosmtpd loads here: only this command needs an SMTP server.
    from keyholder.desk.listener import MailListener  # noqa: PLC0415

    listener = MailListener(rt.uow, rt.settings, host=host, port=port, lmtp=lmtp)
    try:
        asyncio.run(_serve(listener))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


async def _serve(listener: MailListener) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    protocol = "LMTP" if listener.lmtp else "SMTP"

    def ready() -> None:
        typer.echo(
            f"{protocol} listening on {listener.host}:{listener.port}; Ctrl-C to stop", err=True
        )

    await listener.serve(stop, ready=ready)


def _is_loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere
