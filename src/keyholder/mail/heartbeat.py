"""The mail relay's heartbeat: each relay process records when it last made a pass.

``/readyz`` is not ready while mail can be queued but no relay has made a pass
lately (``newest_beat``): requests would succeed while their emails (reset
links, veto notices) sit undelivered. One row per process, updated in place;
rows of relays gone for a day are forgotten by the next beat.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, select, update

from keyholder.db.uow import UnitOfWork
from keyholder.mail.models import RelayHeartbeat

FORGET_AFTER = timedelta(days=1)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def beat(uow_factory: Callable[[], UnitOfWork], process: str) -> None:
    with uow_factory() as uow:
        now = uow.clock.now()
        moved = uow.session.execute(
            update(RelayHeartbeat).where(RelayHeartbeat.process == process).values(beat_at=now)
        )
        if moved.rowcount == 0:  # type: ignore[attr-defined]
            uow.session.add(RelayHeartbeat(process=process, beat_at=now))
        uow.session.execute(
            delete(RelayHeartbeat).where(RelayHeartbeat.beat_at < now - FORGET_AFTER)
        )
        uow.commit()


def newest_beat(connection: Connection) -> datetime | None:
    return connection.execute(select(func.max(RelayHeartbeat.beat_at))).scalar_one_or_none()
