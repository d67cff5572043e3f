"""The one wiring point: settings in, a ready runtime out."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from keyholder.clock import Clock, SystemClock
from keyholder.config import Settings
from keyholder.db.engine import make_engine
from keyholder.db.uow import RequestContext, UnitOfWork, make_session_factories
from keyholder.mail.relay import Relay
from keyholder.mail.transports import MailTransport, SMTPTransport


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    mail_transport: MailTransport | None
    _read_sessions: sessionmaker[Session] = field(repr=False)
    _write_sessions: sessionmaker[Session] = field(repr=False)
    mail_queued: threading.Event = field(default_factory=threading.Event)

    def uow(self, context: RequestContext | None = None, *, read_only: bool = False) -> UnitOfWork:
        """A fresh unit of work. ``read_only`` skips SQLite's up-front write lock."""
        return UnitOfWork(
            self._read_sessions if read_only else self._write_sessions,
            settings=self.settings,
            clock=self.clock,
            context=context or RequestContext(),
            mail_queued=self.mail_queued,
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
        self.engine.dispose()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    mail_transport: MailTransport | None = None,
    engine: Engine | None = None,
) -> Runtime:
    settings = settings or Settings()
    engine = engine or make_engine(settings.database_url)
    if mail_transport is None and settings.smtp_url:
        mail_transport = SMTPTransport(settings.smtp_url)
    read, write = make_session_factories(engine)
    return Runtime(
        settings=settings,
        engine=engine,
        clock=clock or SystemClock(),
        mail_transport=mail_transport,
        _read_sessions=read,
        _write_sessions=write,
    )
