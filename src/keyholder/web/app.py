"""``create_app(settings)``: the one place the web application is wired."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI
from starlette.types import ASGIApp

from keyholder import __version__
from keyholder.bootstrap import Runtime, bootstrap
from keyholder.config import Settings
from keyholder.logs import configure_logging
from keyholder.web import ui
from keyholder.web.api import (
    access,
    accounts,
    attachments,
    audit_events,
    contacts,
    desk,
    email,
    mfa,
    passkeys,
    password_resets,
    session,
    tickets,
    webhooks,
)
from keyholder.web.api_docs import docs_router
from keyholder.web.csrf import ApiRequestGuard
from keyholder.web.headers import SecurityHeaders
from keyholder.web.health import health_router
from keyholder.web.input_guards import LimitApiBodies, RefuseNulInUrl
from keyholder.web.metrics import metrics_router
from keyholder.web.problems import install_problem_handlers
from keyholder.web.redaction import install_log_redaction
from keyholder.web.request_log import RequestLog
from keyholder.web.scim import router as scim_router
from keyholder.worker import run_jobs_forever

log = logging.getLogger(__name__)
# The JSON API's route modules, in the order their routes are matched and documented.
API_MODULES = (
    accounts,  # first: its member lookup is the hottest route, and routes are tried in order
    contacts,
    session,
    password_resets,
    email,
    mfa,
    passkeys,
    desk,
    tickets,
    access,
    attachments,
    audit_events,
    webhooks,
)


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    run_relay: bool | None = None,
    run_jobs: bool | None = None,
    freeze_gc: bool = False,
) -> FastAPI:
    """Build the ASGI app. Pass ``runtime`` to share one (tests); otherwise one is made."""
    # A server uses every adapter: built now, not by the first requests at once.
    runtime = (runtime or bootstrap(settings)).build_all()
    relay_wanted = runtime.settings.relay_in_process if run_relay is None else run_relay
    jobs_wanted = runtime.settings.jobs_in_process if run_jobs is None else run_jobs

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if freeze_gc:
            # Everything loaded so far (modules, mappers, templates) lives as long as
            # the server process: keep it out of the collector's full passes, which
            # otherwise walk it again and again while requests wait (latency tails).
            gc.collect()
            gc.freeze()
        stop = threading.Event()
        relay = runtime.relay() if relay_wanted else None
        thread = None
        if relay is not None:
            thread = threading.Thread(
                target=relay.run_forever,
                args=(stop,),
                kwargs={
                    "interval": runtime.settings.relay_interval_seconds,
                    "wakeup": runtime.mail_queued,
                },
                name="mail-relay",
                daemon=True,
            )
            thread.start()
        jobs = None
        if jobs_wanted:
            jobs = threading.Thread(
                target=run_jobs_forever,
                args=(runtime, stop),
                kwargs={"interval": runtime.settings.jobs_interval_seconds},
                name="background-jobs",
                daemon=True,
            )
            jobs.start()
        try:
            yield
        finally:
            stop.set()
            runtime.mail_queued.set()
            for running in (thread, jobs):
                if running is not None:
                    running.join(timeout=15)

    app = _KeyholderAPI(
        title="Keyholder",
        version=__version__,
        summary="Enterprise accounts, their admins, and reviewed recovery of admin access.",
        redoc_url=None,
        lifespan=lifespan,
        **_api_docs(runtime.settings),
    )
    app.state.runtime = runtime
    _install_middleware(app, runtime.settings)
    install_log_redaction()
    install_problem_handlers(app, not_found_page=ui.rendering.not_found_page)
    for api in API_MODULES:
        app.include_router(api.router, prefix="/api")
    app.include_router(scim_router)  # SCIM 2.0 for identity providers: docs/scim.md
    _include_pages(app, runtime.settings)

    app.include_router(health_router(runtime))
    if runtime.settings.metrics_on_app:
        app.include_router(metrics_router(runtime))
    return app


class _DocsUrls(TypedDict):
    openapi_url: str | None
    docs_url: str | None


OPENAPI_URL = "/api/openapi.json"


def _api_docs(settings: Settings) -> _DocsUrls:
    """Where the OpenAPI document is served: nowhere when switched off.

    FastAPI's own docs page is off: it loads Swagger UI from a CDN. ``docs_router``
    serves the page at ``/api/docs`` with the files from this package.
    """
    return _DocsUrls(
        openapi_url=OPENAPI_URL if settings.serves_api_docs else None,
        docs_url=None,
    )


def _include_pages(app: FastAPI, settings: Settings) -> None:
    """The web UI's pages, and the API docs page unless it is switched off."""
    app.include_router(ui.router)
    if settings.serves_api_docs:
        app.include_router(docs_router(OPENAPI_URL))


class _KeyholderAPI(FastAPI):
    """FastAPI with the security headers outside Starlette's crash handler too.

    Starlette answers an unhandled exception in ``ServerErrorMiddleware``,
    which it always puts outside every added middleware; a middleware added
    the usual way would never see that 500 (S41)."""

    def build_middleware_stack(self) -> ASGIApp:
        runtime: Runtime = self.state.runtime
        stack: ASGIApp = SecurityHeaders(
            super().build_middleware_stack(), hsts_max_age=runtime.settings.hsts_seconds
        )
        # Outermost: the request's id is set before anything else runs, and a crash
        # answered by Starlette's handler is logged with its status too.
        # It also times each request for the metrics, from the same measurement.
        settings = runtime.settings
        if not (settings.request_log or settings.metrics_enabled):
            return stack
        return RequestLog(stack, log_lines=settings.request_log, measure=settings.metrics_enabled)


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    # The last added runs first: the refusals of a URL with NUL, of another
    # origin (S38) and of a body too large. The security headers wrap them
    # all, and the crash handler (see _KeyholderAPI).
    app.add_middleware(LimitApiBodies)
    app.add_middleware(ApiRequestGuard, settings=settings)
    app.add_middleware(RefuseNulInUrl)


def create_server_app() -> FastAPI:
    """The app as ``keyholder serve`` runs it (uvicorn's factory, once per worker)."""
    runtime = bootstrap()
    configure_logging(runtime.settings.lines_of_log)
    return create_app(runtime=runtime, freeze_gc=True)
