"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from keyholder.errors import (
    InvalidInput,
    KeyholderError,
    NoIndependentProof,
    ServiceUnavailable,
    TooManyRequests,
    UnknownPermission,
)
from keyholder.web.redaction import redact

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="keyholder"'
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(KeyholderError)
    async def _keyholder_error(request: Request, exc: KeyholderError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, UnknownPermission):
            extra["valid_permissions"] = exc.valid
        if isinstance(exc, InvalidInput) and exc.field is not None:
            # The same shape as a request validation error's, for clients that read fields.
            extra["errors"] = [{"loc": ["body", exc.field], "msg": exc.detail}]
        if isinstance(exc, NoIndependentProof):
            extra["missing_proofs"] = exc.missing
        headers = {}
        if isinstance(exc, TooManyRequests | ServiceUnavailable) and exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        if exc.status_code >= 500:
            # "Busy, retry later" (a full hashing queue, S40) comes in floods: a warning.
            level = logging.WARNING if "Retry-After" in headers else logging.ERROR
            log.log(level, "%s: %s", type(exc).__name__, exc.detail)
        return problem(request, exc.status_code, exc.title, exc.detail, headers=headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(part) for part in error.get("loc", ())], "msg": error.get("msg", "")}
            for error in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(e['loc'][1:]) or 'body'}: {e['msg']}" for e in errors)
        return problem(request, 422, "Invalid input", summary or "invalid request", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and wants_page(request):
            # Imported here: the pages build on the API's wiring, not the other way round.
            from keyholder.web.ui.rendering import not_found_page  # noqa: PLC0415

            return not_found_page(request)
        return problem(request, exc.status_code, _reason(exc.status_code), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, redact(request.url.path))
        return problem(request, 500, "Internal error", "something went wrong on our side")


def wants_page(request: Request) -> bool:
    """A browser asking for a page outside ``/api``: it gets HTML, the API keeps problem+json."""
    path = request.url.path
    if path == "/api" or path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
