"""``GET /metrics`` on the app's own port, when the settings say so (``Settings.metrics_on_app``).

Behind ``KEYHOLDER_METRICS_TOKEN`` when it is set (``Authorization: Bearer``,
compared in constant time); open only outside production with no token and no
listener of their own. Otherwise the route does not exist: 404, as for any
unknown path. The page names routes and counts, never a person.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from keyholder.bootstrap import Runtime
from keyholder.errors import NotAuthenticated
from keyholder.observability.exposition import bearer_token_matches, render


def metrics_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    token = runtime.settings.metrics_token

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        if token is not None and not bearer_token_matches(
            request.headers.get("authorization"), token.get_secret_value()
        ):
            raise NotAuthenticated("a metrics token is needed (Authorization: Bearer …)")
        # The database read blocks: off the event loop.
        body, content_type = await run_in_threadpool(render, runtime)
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    return router
