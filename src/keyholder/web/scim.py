"""The SCIM 2.0 endpoint of each account: ``/scim/v2/{account}/…`` (RFC 7644).

Thin routes over ``scim.service``: each authenticates the bearer token against
the account in the path (``scim.tokens``), reads the body with a size limit,
runs one use case in the thread pool and answers ``application/scim+json``.
Every error, ours or a SCIM one, is a SCIM Error (``status`` as a string,
``scimType`` where RFC 7644 §3.12 has one), never problem+json.

Outside ``/api`` on purpose: no session cookie is read here, so the browser
defences of the API (``web.csrf``) do not apply, and the routes stay out of
the OpenAPI document, which describes the JSON API.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    ListResponse,
    PatchOp,
    ResourceType,
    ResponseParameters,
    Schema,
    SCIMException,
    SearchRequest,
)
from starlette.concurrency import run_in_threadpool

from keyholder.errors import (
    AlreadyExists,
    Conflict,
    Gone,
    InvalidInput,
    KeyholderError,
    NotAuthenticated,
)
from keyholder.scim import resources, service
from keyholder.scim.resources import POLICY, Member
from keyholder.scim.tokens import ScimCaller, authenticate_scim_token
from keyholder.web.deps import request_context, runtime_of
from keyholder.web.inputs import MAX_API_BODY_BYTES

log = logging.getLogger(__name__)
SCIM_JSON = "application/scim+json"
PREFIX = "/scim/v2/{account}"
# Bounds of startIndex and count (S39): what a 32-bit column holds.
_INT_MAX = 2_147_483_647
T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


class _ScimAnswer(Exception):
    """An error answer decided before any use case ran (a body too large, say)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.error = Error(status=status, scim_type=scim_type, detail=detail)


def scim_response(
    content: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = b"" if content is None else json.dumps(content).encode()
    answer = Response(body, status_code=status, media_type=None if content is None else SCIM_JSON)
    answer.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        answer.headers[name] = value
    return answer


def error_response(error: Error) -> Response:
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="keyholder-scim"'
    return scim_response(
        error.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE),
        int(error.status or 500),
        headers,
    )


def _error_of(exc: Exception) -> Error:
    if isinstance(exc, _ScimAnswer):
        return exc.error
    if isinstance(exc, SCIMException):
        return exc.to_error()
    if isinstance(exc, ValidationError):
        return Error.from_validation_errors(exc)[0]
    if isinstance(exc, KeyholderError):
        status, scim_type = exc.status_code, None
        if isinstance(exc, AlreadyExists):
            scim_type = "uniqueness"
        elif isinstance(exc, InvalidInput):
            status, scim_type = 400, "invalidValue"
        elif isinstance(exc, Gone):
            status = 404
        elif isinstance(exc, Conflict):
            status = 409
        return Error(status=status, scim_type=scim_type, detail=exc.detail)
    raise exc


async def _answer(request: Request, work: Callable[[ScimCaller], Response]) -> Response:
    """Authenticate, run ``work`` in the thread pool, and turn any refusal into a SCIM Error."""
    try:
        caller = await run_in_threadpool(_authenticate, request)
        return await run_in_threadpool(work, caller)
    except (KeyholderError, SCIMException, ValidationError, _ScimAnswer) as exc:
        error = _error_of(exc)
        if int(error.status or 500) >= 500:
            log.warning("SCIM %s: %s", type(exc).__name__, error.detail)
        return error_response(error)
    except Exception:  # a SCIM client reads SCIM errors only, a crash's too
        log.exception("unhandled error on SCIM %s", request.method)
        return error_response(Error(status=500, detail="something went wrong on our side"))


def _authenticate(request: Request) -> ScimCaller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("send 'Authorization: Bearer <SCIM token>'")
    uow = runtime_of(request).uow(read_only=True)
    return authenticate_scim_token(uow, token.strip(), request.path_params["account"])


def _base(request: Request) -> str:
    """The endpoint's URL, from the configured base URL (never the Host header, as S4)."""
    settings = runtime_of(request).settings
    return f"{settings.base_url.rstrip('/')}/scim/v2/{request.path_params['account']}"


async def _json_body(request: Request) -> Any:
    """The body as JSON, at most ``MAX_API_BODY_BYTES`` (413), counted as it arrives."""
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > MAX_API_BODY_BYTES:
        raise _ScimAnswer(413, f"a SCIM request body may be at most {MAX_API_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_API_BODY_BYTES:
            raise _ScimAnswer(413, f"a SCIM request body may be at most {MAX_API_BODY_BYTES} bytes")
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _ScimAnswer(400, f"the body is not JSON: {exc}", "invalidSyntax") from None


def _int_parameter(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _ScimAnswer(400, f"{name} must be an integer", "invalidValue") from None
    return max(min(value, _INT_MAX), -_INT_MAX)


def _response_parameters(source: dict[str, Any]) -> ResponseParameters[Any]:
    """``attributes`` / ``excludedAttributes`` of a query or a search request."""
    picked = {k: v for k, v in source.items() if k in ("attributes", "excludedAttributes")}
    return ResponseParameters[Member].model_validate(picked)


def _query_parameters(request: Request) -> ResponseParameters[Any]:
    return _response_parameters(dict(request.query_params))


def _resource_response(
    resource: Member,
    *,
    context: Context,
    status: int = 200,
    parameters: ResponseParameters[Any] | None = None,
) -> Response:
    content = resource.model_dump(scim_ctx=context, response_parameters=parameters)
    headers = {}
    if resource.meta is not None and resource.meta.version:
        headers["ETag"] = resource.meta.version
    if status == 201 and resource.meta is not None and resource.meta.location:
        headers["Location"] = resource.meta.location
    return scim_response(content, status, headers)


def _uow(request: Request, *, read_only: bool = False) -> Any:
    return runtime_of(request).uow(request_context(request), read_only=read_only)


# ------------------------------------------------------------------ discovery


@router.get("/ServiceProviderConfig")
async def service_provider_config(request: Request) -> Response:
    def work(_caller: ScimCaller) -> Response:
        config = resources.service_provider_config(_base(request))
        return scim_response(resources.dump(config))

    return await _answer(request, work)


@router.get("/ResourceTypes")
async def resource_types(request: Request) -> Response:
    def work(_caller: ScimCaller) -> Response:
        return scim_response(_list(ResourceType, [resources.resource_type(_base(request))]))

    return await _answer(request, work)


@router.get("/ResourceTypes/{type_id}")
async def resource_type(request: Request, type_id: str) -> Response:
    def work(_caller: ScimCaller) -> Response:
        if type_id != "User":
            raise _ScimAnswer(404, f"no resource type {type_id!r}: this server has User only")
        return scim_response(resources.dump(resources.resource_type(_base(request))))

    return await _answer(request, work)


@router.get("/Schemas")
async def schemas(request: Request) -> Response:
    def work(_caller: ScimCaller) -> Response:
        return scim_response(_list(Schema, resources.schemas(_base(request))))

    return await _answer(request, work)


@router.get("/Schemas/{schema_id}")
async def schema(request: Request, schema_id: str) -> Response:
    def work(_caller: ScimCaller) -> Response:
        for found in resources.schemas(_base(request)):
            if found.id == schema_id:
                return scim_response(resources.dump(found))
        raise _ScimAnswer(404, f"no schema {schema_id!r}")

    return await _answer(request, work)


def _list(model: Any, items: list[Any]) -> dict[str, Any]:
    total, start_index = len(items), 1
    answer = ListResponse[model](
        total_results=total, start_index=start_index, items_per_page=len(items), resources=items
    )
    return answer.model_dump(scim_ctx=Context.SEARCH_RESPONSE)


# ------------------------------------------------------------------ Users


def _page(request: Request, caller: ScimCaller, source: dict[str, Any]) -> Response:
    parameters = _response_parameters(source)
    page = service.list_users(
        _uow(request, read_only=True),
        caller,
        base=_base(request),
        filter_text=source.get("filter"),
        start_index=source.get("startIndex") or 1,
        count=source.get("count"),
    )
    answer = ListResponse[Member](
        total_results=page.total,
        start_index=page.start_index,
        items_per_page=len(page.resources),
        resources=list(page.resources) or None,
    )
    content = answer.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=parameters)
    return scim_response(content)


@router.get("/Users")
async def list_users(request: Request) -> Response:
    source: dict[str, Any] = dict(request.query_params)

    def work(caller: ScimCaller) -> Response:
        source["startIndex"] = _int_parameter(request, "startIndex")
        source["count"] = _int_parameter(request, "count")
        return _page(request, caller, source)

    return await _answer(request, work)


@router.post("/Users/.search")
@router.post("/.search")
async def search_users(request: Request) -> Response:
    async def read() -> dict[str, Any]:
        body = await _json_body(request)
        searched: SearchRequest[Any] = SearchRequest.model_validate(
            body, scim_ctx=Context.SEARCH_REQUEST
        )
        return {
            "filter": str(searched.filter) if searched.filter else None,
            "startIndex": searched.start_index,
            "count": searched.count,
            "attributes": body.get("attributes"),
            "excludedAttributes": body.get("excludedAttributes"),
        }

    try:
        source = await read()
    except (SCIMException, ValidationError, _ScimAnswer) as exc:
        source = {"error": exc}

    def work(caller: ScimCaller) -> Response:
        if "error" in source:
            raise source["error"]
        return _page(request, caller, source)

    return await _answer(request, work)


async def _body_as(request: Request, parse: Callable[[Any], T]) -> T | Exception:
    """The body parsed, or the refusal to answer once the caller is authenticated."""
    try:
        return parse(await _json_body(request))
    except (SCIMException, ValidationError, _ScimAnswer) as exc:
        return exc


def _parsed(value: T | Exception) -> T:
    if isinstance(value, Exception):
        raise value
    return value


@router.post("/Users")
async def create_user(request: Request) -> Response:
    parsed = await _body_as(
        request,
        lambda body: Member.model_validate(
            body, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
        ),
    )

    def work(caller: ScimCaller) -> Response:
        made = service.create_user(_uow(request), caller, _parsed(parsed), base=_base(request))
        return _resource_response(
            made,
            context=Context.RESOURCE_CREATION_RESPONSE,
            status=201,
            parameters=_query_parameters(request),
        )

    return await _answer(request, work)


@router.get("/Users/{user_id}")
async def get_user(request: Request, user_id: str) -> Response:
    def work(caller: ScimCaller) -> Response:
        found = service.get_user(
            _uow(request, read_only=True), caller, user_id, base=_base(request)
        )
        return _resource_response(
            found,
            context=Context.RESOURCE_QUERY_RESPONSE,
            parameters=_query_parameters(request),
        )

    return await _answer(request, work)


class _UserChange(Protocol[T_contra]):
    def __call__(
        self,
        uow: Any,
        caller: ScimCaller,
        user_id: str,
        change: T_contra,
        /,
        *,
        base: str,
        if_match: str | None = None,
    ) -> Member: ...


async def _change_user(
    request: Request,
    user_id: str,
    parse: Callable[[Any], T],
    change: _UserChange[T],
    context: Context,
) -> Response:
    """PUT and PATCH: the body parsed, the change made (``If-Match`` honoured), the User."""
    parsed = await _body_as(request, parse)

    def work(caller: ScimCaller) -> Response:
        changed = change(
            _uow(request),
            caller,
            user_id,
            _parsed(parsed),
            base=_base(request),
            if_match=request.headers.get("if-match"),
        )
        return _resource_response(changed, context=context, parameters=_query_parameters(request))

    return await _answer(request, work)


@router.put("/Users/{user_id}")
async def replace_user(request: Request, user_id: str) -> Response:
    return await _change_user(
        request,
        user_id,
        lambda body: Member.model_validate(
            body, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
        ),
        service.replace_user,
        Context.RESOURCE_REPLACEMENT_RESPONSE,
    )


@router.patch("/Users/{user_id}")
async def patch_user(request: Request, user_id: str) -> Response:
    return await _change_user(
        request,
        user_id,
        lambda body: PatchOp[Member].model_validate(
            body, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
        ),
        service.patch_user,
        Context.RESOURCE_PATCH_RESPONSE,
    )


@router.delete("/Users/{user_id}")
async def delete_user(request: Request, user_id: str) -> Response:
    def work(caller: ScimCaller) -> Response:
        service.delete_user(
            _uow(request),
            caller,
            user_id,
            base=_base(request),
            if_match=request.headers.get("if-match"),
        )
        return scim_response(None, 204)

    return await _answer(request, work)


def _allowed(rest: str) -> str | None:
    """The methods a known path takes (for a 405), or None for an unknown path (404)."""
    parts = rest.strip("/").split("/")
    if len(parts) == 1:
        return {
            "ServiceProviderConfig": "GET",
            "ResourceTypes": "GET",
            "Schemas": "GET",
            "Users": "GET, POST",
            ".search": "POST",
        }.get(parts[0])
    if len(parts) == 2 and parts[0] in ("ResourceTypes", "Schemas"):
        return "GET"
    if len(parts) == 2 and parts[0] == "Users":
        return "POST" if parts[1] == ".search" else "GET, PUT, PATCH, DELETE"
    return None


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
)
async def elsewhere(request: Request, rest: str) -> Response:
    """Any other path or method: a SCIM 404 or 405, once the caller is authenticated."""

    def work(_caller: ScimCaller) -> Response:
        allowed = _allowed(rest)
        if allowed is None:
            raise _ScimAnswer(404, f"no SCIM endpoint /{rest}")
        answer = error_response(Error(status=405, detail=f"{request.method} is not allowed here"))
        answer.headers["Allow"] = allowed
        return answer

    return await _answer(request, work)
