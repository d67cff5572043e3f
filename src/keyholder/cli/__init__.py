"""The ``keyholder`` command: operators' interface to the same services as the API.

Commands get their Runtime from ``cli.common.runtime()``: the one passed in as
the context object (``app(obj=runtime)``, as tests do), else one built from the
``KEYHOLDER_*`` environment.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer

from keyholder.accounts import service as accounts_service
from keyholder.cli import accounts, audit, db, desk, mail, members, users
from keyholder.cli.common import fail, handle_errors, operator, remember_context, runtime
from keyholder.demo import DEMO_PASSWORD, load_demo_data

app = typer.Typer(
    help="Keyholder: enterprise accounts, their admins, and reviewed recovery of admin access.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    callback=remember_context,
)
app.add_typer(db.app, name="db")
app.add_typer(users.users_app, name="users")
app.add_typer(users.tokens_app, name="tokens")
app.add_typer(accounts.app, name="accounts")
app.add_typer(members.app, name="members")
app.add_typer(desk.app, name="tickets")
app.add_typer(audit.app, name="audit")
app.add_typer(mail.app, name="mail")


@app.command("demo")
@handle_errors
def demo(
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Load nothing when any enterprise account exists already."
    ),
) -> None:
    """Load demo accounts, members and staff (idempotent)."""
    rt = runtime()
    if if_empty and accounts_service.list_accounts(rt.uow(read_only=True), actor=operator()):
        typer.echo("the database already holds accounts: demo data not loaded")
        return
    created = load_demo_data(rt)
    for line in created:
        typer.echo(f"created {line}")
    typer.echo(
        f"demo data ready ({len(created)} new items); "
        f"every demo user's password is {DEMO_PASSWORD!r}"
    )


@app.command("serve")
@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log"),
) -> None:
    """Serve the API (with an in-process mail relay unless KEYHOLDER_RELAY_IN_PROCESS=false)."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server; keeps other commands quick

    db.require_current_schema()
    uvicorn.run(
        "keyholder.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        proxy_headers=False,
    )


@app.command("worker")
@handle_errors
def worker(
    once: bool = typer.Option(False, "--once", help="Deliver what is due, then exit."),
) -> None:
    """Run the mail relay on its own (as many as you like, side by side)."""
    rt = runtime()
    db.require_current_schema()
    relay = rt.relay()
    if relay is None:
        fail("KEYHOLDER_SMTP_URL is not set: there is nothing to deliver to")
    if once:
        result = relay.run_until_idle()
        typer.echo(f"{result.sent} sent, {result.retrying} to retry, {result.failed} failed")
        return
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()
        rt.mail_queued.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo("mail relay running; Ctrl-C to stop", err=True)
    relay.run_forever(stop, interval=rt.settings.relay_interval_seconds, wakeup=rt.mail_queued)


def main() -> None:
    app(prog_name="keyholder")
