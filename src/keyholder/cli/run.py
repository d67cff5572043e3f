"""``keyholder demo``, ``serve`` and ``worker``: the commands at the top level.

They live here, not in ``keyholder.cli``, so that the top level imports none of
their services (see ``keyholder.cli``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, ModuleType

import typer

from keyholder.accounts import service as accounts_service
from keyholder.bootstrap import Runtime
from keyholder.cli import audit, db
from keyholder.cli.common import handle_errors, operator, runtime
from keyholder.errors import ConfigurationError
from keyholder.logs import configure_logging
from keyholder.metrics import MULTIPROC_ENV
from keyholder.worker import run_jobs_forever, run_jobs_once

app = typer.Typer()


@app.command("demo")
@handle_errors
def demo(
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Load nothing when any enterprise account exists already."
    ),
) -> None:
    """Load demo accounts, members and staff (idempotent; KEYHOLDER_ENV=development only)."""
    # The demo draws its letters with Pillow: loaded for this command only.
    from keyholder.cli.progress import progress_bar  # noqa: PLC0415
    from keyholder.demo import (  # noqa: PLC0415
        DEMO_PASSWORD,
        demo_steps,
        load_demo_data,
        require_development,
    )

    rt = runtime()
    require_development(rt.settings)
    if if_empty and accounts_service.list_accounts(rt.uow(read_only=True), actor=operator()):
        typer.echo("the database already holds accounts: demo data not loaded")
        return
    # Each user's password is hashed (argon2): a few seconds in all, worth a bar.
    with progress_bar("Loading demo data", demo_steps(), long_run=1) as step:
        created = load_demo_data(rt, step=step)
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
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="one log line per request"
    ),
    metrics_address: str | None = typer.Option(
        None,
        "--metrics-address",
        help="host:port of a separate /metrics listener (default KEYHOLDER_METRICS_ADDRESS)",
    ),
) -> None:
    """Serve the API (with an in-process mail relay unless KEYHOLDER_RELAY_IN_PROCESS=false)."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server; keeps other commands quick

    rt = runtime()
    db.require_current_schema()
    audit.require_checkpoint_signer()
    if not access_log:  # read by every worker process as it builds the app
        os.environ["KEYHOLDER_REQUEST_LOG"] = "false"
    if metrics_address:  # the workers take /metrics off the app's port (Settings.metrics_on_app)
        os.environ["KEYHOLDER_METRICS_ADDRESS"] = metrics_address
    metrics_address = metrics_address or rt.settings.metrics_address
    if workers > 1 and (metrics_address or rt.settings.metrics_enabled):
        shared_metrics_directory()
    with metrics_served(rt, metrics_address):
        _run_uvicorn(uvicorn, host, port, workers, trusted_proxies=rt.settings.trusted_proxies)


def _run_uvicorn(
    uvicorn: ModuleType, host: str, port: int, workers: int, *, trusted_proxies: tuple[str, ...]
) -> None:
    uvicorn.run(
        "keyholder.web.app:create_server_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # ours instead (web.request_log): route templates, no paths
        log_config=None,  # keyholder.logs configures logging in each worker
        # The client's address from X-Forwarded-For only behind proxies named in the
        # settings; otherwise the header is anyone's to write and is ignored.
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) or None,
        server_header=False,  # no "server: uvicorn" banner naming what to attack (S41)
    )


@app.command("worker")
@handle_errors
def worker(
    once: bool = typer.Option(False, "--once", help="Do what is due now, then exit."),
    metrics_address: str | None = typer.Option(
        None,
        "--metrics-address",
        help="host:port of a /metrics listener (default KEYHOLDER_METRICS_ADDRESS)",
    ),
) -> None:
    """Run the mail relay and the background jobs (as many workers as you like, side by side).

    Jobs: granting access requests whose cooling-off has ended, letter pre-screens,
    signed checkpoints of the audit log.
    """
    rt = runtime()
    db.require_current_schema()
    audit.require_checkpoint_signer()
    relay = rt.relay()
    if relay is None:
        typer.echo("KEYHOLDER_SMTP_URL is not set: mail stays in the outbox", err=True)
    if once:
        if relay is not None:
            result = relay.run_until_idle()
            typer.echo(f"{result.sent} sent, {result.retrying} to retry, {result.failed} failed")
        jobs = run_jobs_once(rt)
        typer.echo(
            f"{jobs.executed} access requests executed, {jobs.prescreened} letters screened, "
            f"{jobs.purged} past their retention purged, "
            f"{jobs.webhooks_delivered} webhooks delivered, "
            f"{jobs.audit_streamed} audit events streamed, "
            f"{jobs.checkpointed} audit checkpoints written"
        )
        return
    configure_logging(rt.settings.lines_of_log)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()
        rt.mail_queued.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    jobs_thread = threading.Thread(
        target=run_jobs_forever,
        args=(rt, stop),
        kwargs={"interval": rt.settings.jobs_interval_seconds},
        name="background-jobs",
        daemon=True,
    )
    jobs_thread.start()
    typer.echo("worker running (mail relay and jobs); Ctrl-C to stop", err=True)
    with metrics_served(rt, metrics_address or rt.settings.metrics_address):
        if relay is not None:
            relay.run_forever(
                stop, interval=rt.settings.relay_interval_seconds, wakeup=rt.mail_queued
            )
        else:
            stop.wait()
    jobs_thread.join(timeout=15)


@contextmanager
def metrics_served(rt: Runtime, address: str | None) -> Iterator[None]:
    """A separate metrics listener while the block runs, when an address is given."""
    if not address:
        yield
        return
    from keyholder.observability import server  # noqa: PLC0415 - serve and worker only

    try:
        listener = server.start_listener(rt, address)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot serve metrics on {address}: {exc}") from None
    typer.echo(f"metrics on http://{server.bound_address(listener)}/metrics", err=True)
    try:
        yield
    finally:
        listener.shutdown()
        listener.server_close()


def shared_metrics_directory() -> None:
    """Several workers sum their numbers in ``PROMETHEUS_MULTIPROC_DIR``: one is made
    (empty, for this run) when the operator set none, before any worker starts."""
    if os.environ.get(MULTIPROC_ENV):
        return
    directory = tempfile.mkdtemp(prefix="keyholder-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    typer.echo(f"{MULTIPROC_ENV} not set: the workers share metrics in {directory}", err=True)
