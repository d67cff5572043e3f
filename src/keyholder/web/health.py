"""``/healthz`` (the process is up) and ``/readyz`` (it can serve: send it traffic).

A load balancer or orchestrator asks ``/readyz`` before it routes requests to a
process and while it does. Not ready means a 503 problem naming what is wrong:
the database does not answer, or its schema is not the one this code was built
for (a deployment that forgot ``keyholder db upgrade``, or an old process still
running after one: either would fail requests in ways that look like bugs).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from keyholder.bootstrap import Runtime
from keyholder.db import migrate

log = logging.getLogger(__name__)


def health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["health"])
    # Read once: the code's newest revision does not change while it runs.
    head = migrate.head_revision(runtime.engine)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @router.get("/readyz", response_model=None)
    def readyz() -> Response:
        """The database answers, and its schema is at this code's newest revision."""
        try:
            with runtime.engine.connect() as connection:
                revision = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar_one_or_none()
        except SQLAlchemyError as exc:
            log.warning("readiness check failed: %s", exc)
            return _unready(f"the database is not reachable ({type(exc).__name__})")
        if revision != head:
            return _unready(
                f"the database schema is at revision {revision or 'none'}, this code needs "
                f"{head}: run `keyholder db upgrade`"
            )
        return JSONResponse(
            {"status": "ok", "database": runtime.engine.dialect.name, "schema": revision}
        )

    return router


def _unready(detail: str) -> Response:
    return JSONResponse(
        {"type": "about:blank", "title": "Not ready", "status": 503, "detail": detail},
        status_code=503,
        media_type="application/problem+json",
        headers={"Cache-Control": "no-store"},
    )
