"""Mail-relay benchmark: outbox to a loopback SMTP server, messages per second.

Each run makes a fresh database (a temporary SQLite file, or a throwaway
PostgreSQL database), migrates it with the real migrations, queues
``--messages`` emails through ``enqueue_email`` in committed units of work,
starts an aiosmtpd server on 127.0.0.1, and times ``Relay.run_until_idle()``
(``--relays`` of them in threads) until the outbox is drained. Then it checks
that the server received every queued Message-ID exactly once and that every
row is marked sent. It prints each run and the median; the target is
>= 50 messages/s (DESIGN.md, "Performance").

    .venv/bin/python benchmarks/mail_relay.py                     # SQLite
    .venv/bin/python benchmarks/mail_relay.py --relays 4          # 4 relays at once
    .venv/bin/python benchmarks/mail_relay.py --postgresql        # throwaway PG database
    .venv/bin/python benchmarks/mail_relay.py --postgresql postgresql+psycopg://u@host/db

Exit status: 0 when every run delivered everything exactly once and the median
meets the target; 1 when a message was lost or doubled; 2 when too slow.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from keyholder.audit.keys import new_chain_key, new_signing_key
from keyholder.bootstrap import bootstrap
from keyholder.config import Settings
from keyholder.db import migrate
from keyholder.db.engine import make_engine
from keyholder.mail.models import OutboxMessage, OutboxStatus
from keyholder.mail.outbox import enqueue_email
from keyholder.mail.relay import Relay
from keyholder.mail.transports import SMTPTransport

DEFAULT_POSTGRESQL = os.environ.get(
    "KEYHOLDER_BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TARGET = 50.0  # messages per second
ENQUEUE_CHUNK = 500  # emails per unit of work while seeding
SECRET = "benchmark-secret-key-0123456789abcdef0123456789"  # noqa: S105 - throwaway


class CountingHandler:
    """Accepts everything and counts Message-IDs (headers only: cheap)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._parser = BytesHeaderParser()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message_id = str(self._parser.parsebytes(envelope.content)["Message-ID"])
        with self._lock:
            self.received[message_id] += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def smtp_server(handler: CountingHandler) -> Iterator[str]:
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, server_hostname="smtp.bench.test"
    )
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@contextlib.contextmanager
def database(postgresql_url: str | None) -> Iterator[Engine]:
    """A freshly migrated, empty database that is gone afterwards."""
    if postgresql_url is None:
        with tempfile.TemporaryDirectory(prefix="keyholder-bench-") as workdir:
            engine = make_engine(f"sqlite:///{Path(workdir) / 'bench.db'}")
            try:
                migrate.upgrade(engine)
                yield engine
            finally:
                engine.dispose()
        return
    name = f"keyholder_bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgresql_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(
        make_url(postgresql_url).set(database=name).render_as_string(hide_password=False)
    )
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class RunResult:
    messages: int
    seconds: float
    lost: int
    doubled: int
    not_sent: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def correct(self) -> bool:
        return self.lost == self.doubled == self.not_sent == 0


def production_settings(engine: Engine, workdir: Path) -> Settings:
    """Production settings on ``engine``, with fresh keys of the kinds production requires
    (audit chain and signing keys, as ``keyholder audit keygen`` makes them; a TOTP key)."""
    return Settings(
        env="production",
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key=SECRET,
        mail_from="Keyholder <support@keyholder.bench>",
        audit_keys={"bench": new_chain_key()},
        audit_signing_key=new_signing_key(),
        audit_checkpoint_file=workdir / "audit-checkpoint.json",
        totp_keys=[Fernet.generate_key().decode()],
        _env_file=None,
    )


def one_run(engine: Engine, *, messages: int, relays: int, batch_size: int) -> RunResult:
    handler = CountingHandler()
    with smtp_server(handler) as url, tempfile.TemporaryDirectory(prefix="kh-relay-") as workdir:
        settings = production_settings(engine, Path(workdir))
        runtime = bootstrap(settings, engine=engine, mail_transport=SMTPTransport(url))
        queued: list[str] = []
        for start in range(0, messages, ENQUEUE_CHUNK):
            with runtime.uow() as uow:
                rows = [
                    enqueue_email(
                        uow,
                        kind="benchmark",
                        to=[f"person{i}@customer.example"],
                        subject=f"Benchmark message {i}",
                        body=f"Hello,\n\nthis is benchmark message {i}.\n\n-- \nKeyholder\n",
                    )
                    for i in range(start, min(start + ENQUEUE_CHUNK, messages))
                ]
                uow.commit()
            queued += [row.message_id for row in rows]

        workers = [
            Relay(runtime.uow, SMTPTransport(url), batch_size=batch_size) for _ in range(relays)
        ]
        began = time.perf_counter()
        with ThreadPoolExecutor(relays) as pool:
            results = list(pool.map(Relay.run_until_idle, workers))
        seconds = time.perf_counter() - began

        errors = [error for result in results for error in result.errors]
        if errors:
            print(f"  relay errors: {len(errors)}, first: {errors[0]}", file=sys.stderr)
        with runtime.uow(read_only=True) as uow:
            statuses = Counter(uow.session.scalars(select(OutboxMessage.status)))
    received = handler.received
    return RunResult(
        messages=messages,
        seconds=seconds,
        lost=sum(1 for message_id in queued if message_id not in received),
        doubled=sum(count - 1 for count in received.values() if count > 1),
        not_sent=sum(n for status, n in statuses.items() if status != OutboxStatus.SENT),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--relays", type=int, default=1, help="relays draining at once")
    parser.add_argument("--batch-size", type=int, default=100, help="messages per claim")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgresql",
        nargs="?",
        const=DEFAULT_POSTGRESQL,
        default=None,
        metavar="URL",
        help=f"use a throwaway database on this PostgreSQL server (default {DEFAULT_POSTGRESQL})",
    )
    args = parser.parse_args(argv)

    backend = "postgresql" if args.postgresql else "sqlite"
    print(
        f"mail relay: {args.messages} messages, {args.relays} relay(s), batch {args.batch_size}, "
        f"{backend}, loopback aiosmtpd, {args.runs} run(s)"
    )
    runs: list[RunResult] = []
    for n in range(1, args.runs + 1):
        with database(args.postgresql) as engine:
            run = one_run(
                engine, messages=args.messages, relays=args.relays, batch_size=args.batch_size
            )
        runs.append(run)
        print(
            f"  run {n}: {run.seconds:6.2f} s  {run.rate:8.1f} messages/s  "
            f"lost {run.lost}  doubled {run.doubled}  not marked sent {run.not_sent}"
        )

    median = statistics.median(run.rate for run in runs)
    correct = all(run.correct for run in runs)
    verdict = "meets" if median >= TARGET else "BELOW"
    print(f"median: {median:.1f} messages/s ({verdict} the target of {TARGET:.0f}/s)")
    print("delivery: " + ("every message exactly once" if correct else "LOST OR DOUBLED MESSAGES"))
    if not correct:
        return 1
    return 0 if median >= TARGET else 2


if __name__ == "__main__":
    sys.exit(main())
