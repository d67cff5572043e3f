"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from keyholder.errors import (
    InvalidInput,
    KeyholderError,
    NeedsPhishingResistantFactor,
    NoIndependentProof,
    ServiceUnavailable,
    TooManyRequests,
    UnknownPermission,
)
from keyholder.web.headers import is_api_path
from keyholder.web.redaction import redact

log = logging.getLogger(__name__)
# The page where passkeys are added (``NeedsPhishingResistantFactor``'s answers name it).
ENROL_URL = "/account/security#passkeys"

PROBLEM_JSON = "application/problem+json"

# The problem answers of errors.py's tree, documented on every API operation
# (``document_problems``): any of them may come from a route's service.
PROBLEM_ANSWERS = {
    400: "A body that cannot be read (not UTF-8, say)",
    401: "Not signed in, or the credentials are not valid",
    403: "Signed in, but not allowed to do this",
    404: "Not found, or hidden from this caller",
    409: "Clashes with the current state: a refused move, a name taken, the last admin",
    410: "The link was used, has expired or was replaced",
    413: "Over a size limit",
    415: "A body or an upload of a type not taken here",
    422: "Invalid input; `errors` names each field a request's validation refused",
    429: "Too many attempts: try again after Retry-After seconds",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details: the body of every error answer.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
        "valid_permissions": {"type": "array", "items": {"type": "string"}},
        "enrol_url": {
            "type": "string",
            "description": "Where to add a passkey (a staff or admin action refused "
            "without a passkey sign-in under the phishing-resistant policy).",
        },
    },
}


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


def document_problems(openapi: dict[str, Any]) -> None:
    """Describe ``PROBLEM_ANSWERS`` as problem+json on every API operation of ``openapi``.

    Once for all routes, present and future, rather than a ``responses=`` on each;
    a route's own description of one of these statuses is kept. FastAPI's own
    422 (a JSON body we never send) gives way to the problem.
    """
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in openapi.get("paths", {}).items():
        if not is_api_path(path):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in PROBLEM_ANSWERS.items():
                answer = responses.setdefault(str(status), {"description": description})
                if answer.get("description") == "Validation Error":
                    answer["description"] = description
                answer["content"] = {
                    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
                }


def error_headers(exc: KeyholderError) -> dict[str, str]:
    """The headers an error's answer carries besides its status (``exc.status_code``):
    the API's problems and the pages' errors alike."""
    if isinstance(exc, TooManyRequests | ServiceUnavailable) and exc.retry_after is not None:
        return {"Retry-After": str(exc.retry_after)}
    return {}


def install_problem_handlers(
    app: FastAPI, *, not_found_page: Callable[[Request], Response] | None = None
) -> None:
    """Answer every error as problem+json, and say so in the OpenAPI document.

    A browser asking for a page that does not exist gets ``not_found_page``
    if given (the pages' own, handed in: they build on this module, not the
    other way round)."""
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            document_problems(build_openapi())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

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
        if isinstance(exc, NeedsPhishingResistantFactor):
            extra["enrol_url"] = ENROL_URL
        headers = error_headers(exc)
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
        if exc.status_code == 404 and not_found_page is not None and wants_page(request):
            return not_found_page(request)
        return problem(request, exc.status_code, _reason(exc.status_code), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, redact(request.url.path))
        return problem(request, 500, "Internal error", "something went wrong on our side")


def wants_page(request: Request) -> bool:
    """A browser asking for a page outside ``/api``: it gets HTML, the API keeps problem+json."""
    if is_api_path(request.url.path):
        return False
    return "text/html" in request.headers.get("accept", "")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
