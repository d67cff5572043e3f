"""The one wiring point: settings in, a ready runtime out."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from keyholder.access.wiring import register_desk_hooks
from keyholder.audit.checkpoints import CheckpointWriter
from keyholder.audit.settings import checkpoint_sinks, signing_key
from keyholder.clock import Clock, SystemClock
from keyholder.config import Settings
from keyholder.db.engine import make_engine
from keyholder.db.uow import RequestContext, UnitOfWork, make_session_factories
from keyholder.identity.hashing import HashingPool
from keyholder.identity.passwords import configure as configure_passwords
from keyholder.identity.throttle import RateLimiter, make_rate_limiter
from keyholder.mail.relay import Relay
from keyholder.mail.transports import MailTransport, SMTPTransport


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    mail_transport: MailTransport | None
    rate_limiter: RateLimiter
    hashing: HashingPool
    _read_sessions: sessionmaker[Session] = field(repr=False)
    _write_sessions: sessionmaker[Session] = field(repr=False)
    mail_queued: threading.Event = field(default_factory=threading.Event)
    # Signs audit checkpoints to the sinks; None without sinks or a signing key (S36).
    audit_checkpoints: CheckpointWriter | None = None

    def uow(self, context: RequestContext | None = None, *, read_only: bool = False) -> UnitOfWork:
        """A fresh unit of work. ``read_only`` skips SQLite's up-front write lock."""
        return UnitOfWork(
            self._read_sessions if read_only else self._write_sessions,
            settings=self.settings,
            clock=self.clock,
            context=context or RequestContext(),
            mail_queued=self.mail_queued,
            audit_checkpoints=self.audit_checkpoints,
        )

    def relay(self) -> Relay | None:
        """The mail relay, or None when no transport is configured (mail stays queued)."""
        if self.mail_transport is None:
            return None
        return Relay(
            self.uow,
            self.mail_transport,
            batch_size=self.settings.relay_batch_size,
            max_attempts=self.settings.relay_max_attempts,
        )

    def close(self) -> None:
        self.hashing.close()
        self.rate_limiter.close()
        self.engine.dispose()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    mail_transport: MailTransport | None = None,
    engine: Engine | None = None,
    rate_limiter: RateLimiter | None = None,
) -> Runtime:
    settings = settings or Settings()
    register_desk_hooks()  # the desk asks access through these (desk.hooks)
    configure_passwords(settings)  # argon2 parameters for this process (S12)
    engine = engine or make_engine(settings.database_url)
    if mail_transport is None and settings.smtp_url:
        mail_transport = SMTPTransport(settings.smtp_url)
    read, write = make_session_factories(engine)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        clock=clock or SystemClock(),
        mail_transport=mail_transport,
        rate_limiter=rate_limiter or make_rate_limiter(settings),
        hashing=HashingPool(
            settings.hashing_workers,
            niceness=settings.hashing_niceness,
            queue_limit=settings.hashing_queue_limit,
            deadline_seconds=settings.hashing_deadline_seconds,
        ),
        _read_sessions=read,
        _write_sessions=write,
    )
    sinks, key = checkpoint_sinks(settings), signing_key(settings)
    if sinks and key is not None:
        runtime.audit_checkpoints = CheckpointWriter(runtime.uow, key, sinks)
    return runtime
