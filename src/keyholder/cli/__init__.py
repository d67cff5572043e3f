"""The ``keyholder`` command: operators' interface to the same services as the API."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer

from keyholder.cli import accounts, audit, mail, members, users
from keyholder.cli.common import fail, runtime
from keyholder.db import migrate

app = typer.Typer(
    help="Keyholder: enterprise accounts, their admins, and reviewed recovery of admin access.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users.users_app, name="users")
app.add_typer(users.tokens_app, name="tokens")
app.add_typer(accounts.app, name="accounts")
app.add_typer(members.app, name="members")
app.add_typer(audit.app, name="audit")
app.add_typer(mail.app, name="mail")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    migrate.upgrade(runtime().engine)
    typer.echo(f"database at revision {migrate.current_revision(runtime().engine)}")


@db_app.command("check")
def db_check() -> None:
    """Exit 1 unless the schema is at the newest revision and matches the models."""
    engine = runtime().engine
    current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    if current != head:
        fail(f"database is at revision {current or 'none'}, newest is {head}: run `keyholder db upgrade`")
    differences = migrate.schema_differences(engine)
    if differences:
        fail(f"schema differs from the models in {len(differences)} place(s): {differences[0]}")
    typer.echo(f"database at revision {current}; schema matches the models")


@app.command("demo")
def demo() -> None:
    """Load demo accounts, members and staff (idempotent)."""
    from keyholder.demo import DEMO_PASSWORD, load_demo_data

    created = load_demo_data(runtime())
    for line in created:
        typer.echo(f"created {line}")
    typer.echo(f"demo data ready ({len(created)} new items); every demo user's password is {DEMO_PASSWORD!r}")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log"),
) -> None:
    """Serve the API (with an in-process mail relay unless KEYHOLDER_RELAY_IN_PROCESS=false)."""
    import uvicorn

    _require_current_schema()
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
def worker(once: bool = typer.Option(False, "--once", help="Deliver what is due, then exit.")) -> None:
    """Run the mail relay on its own (as many as you like, side by side)."""
    rt = runtime()
    _require_current_schema()
    relay = rt.relay()
    if relay is None:
        fail("KEYHOLDER_SMTP_URL is not set: there is nothing to deliver to")
    if once:
        result = relay.run_until_idle()
        typer.echo(f"{result.sent} sent, {result.retrying} to retry, {result.failed} failed")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        rt.mail_queued.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo("mail relay running; Ctrl-C to stop", err=True)
    relay.run_forever(stop, interval=rt.settings.relay_interval_seconds, wakeup=rt.mail_queued)


def _require_current_schema() -> None:
    engine = runtime().engine
    if migrate.current_revision(engine) != migrate.head_revision(engine):
        fail("the database schema is not current: run `keyholder db upgrade` first")


def main() -> None:
    app(prog_name="keyholder")
