"""``/healthz`` (the process is up) and ``/readyz`` (it can serve: send it traffic).

A load balancer or orchestrator asks ``/readyz`` before it routes requests to a
process and while it does. Not ready means a 503 problem naming what is wrong:
the database does not answer, or its schema is not the one this code was built
for (a deployment that forgot ``keyholder db upgrade``, or an old process still
running after one: either would fail requests in ways that look like bugs), or
mail is sent (a transport, ``KEYHOLDER_SMTP_URL``) but no mail relay has made a pass lately
(``mail.heartbeat``): requests would succeed while their emails wait unsent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from keyholder.bootstrap import Runtime
from keyholder.db import migrate
from keyholder.mail.heartbeat import newest_beat

log = logging.getLogger(__name__)


def health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["health"])
    # Read once: the code's newest revision does not change while it runs.
    head = migrate.head_revision(runtime.engine)
    # A relay beats before every pass, at most relay_interval_seconds apart, but a
    # pass over a long outbox (or a slow SMTP server) delays the next beat.
    relay_max_age = timedelta(seconds=30 + 5 * runtime.settings.relay_interval_seconds)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @router.get("/readyz", response_model=None)
    def readyz() -> Response:
        """The database answers, its schema is at this code's newest revision, and mail
        is being delivered (when it is sent at all)."""
        try:
            with runtime.engine.connect() as connection:
                # A database never migrated has no version table: "none", not "unreachable".
                migrated = inspect(connection).has_table("alembic_version")
                revision = (
                    connection.execute(
                        text("SELECT version_num FROM alembic_version")
                    ).scalar_one_or_none()
                    if migrated
                    else None
                )
                relay_seen = newest_beat(connection) if revision == head else None
        except SQLAlchemyError as exc:
            log.warning("readiness check failed: %s", exc)
            return _unready(f"the database is not reachable ({type(exc).__name__})")
        if revision != head:
            return _unready(
                f"the database schema is at revision {revision or 'none'}, this code needs "
                f"{head}: run `keyholder db upgrade`"
            )
        relay = "off"  # no transport: mail stays queued by design (development)
        if runtime.mail_transport is not None:
            late = relay_seen is None or runtime.clock.now() - relay_seen > relay_max_age
            if late:
                seen = (
                    f"last seen {relay_seen:%Y-%m-%d %H:%M:%S} UTC" if relay_seen else "none seen"
                )
                return _unready(
                    f"no mail relay is running ({seen}): start `keyholder worker`, or set "
                    "KEYHOLDER_RELAY_IN_PROCESS=true"
                )
            relay = "running"
        return JSONResponse(
            {
                "status": "ok",
                "database": runtime.engine.dialect.name,
                "schema": revision,
                "mail_relay": relay,
            }
        )

    return router


def _unready(detail: str) -> Response:
    return JSONResponse(
        {"type": "about:blank", "title": "Not ready", "status": 503, "detail": detail},
        status_code=503,
        media_type="application/problem+json",
        headers={"Cache-Control": "no-store"},
    )
