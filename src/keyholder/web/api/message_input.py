"""Message bodies that come as JSON, or as multipart/form-data with attachments.

The same route takes both: JSON for a script with text only, a form when
files come along (read within the size limits while streaming, S33). The
fields are validated by the same Pydantic model either way.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from keyholder.desk.attachments import NewAttachment
from keyholder.errors import InvalidInput, UnsupportedMediaType
from keyholder.web.csrf import is_json, media_type
from keyholder.web.uploads import is_multipart, read_upload_form

M = TypeVar("M", bound=BaseModel)

MAX_JSON_BYTES = 1024 * 1024


async def read_message(request: Request, model: type[M]) -> tuple[M, list[NewAttachment]]:
    """The validated fields and the files (none for JSON) of a message request."""
    settings = request.app.state.runtime.settings
    if is_multipart(request):
        form = await read_upload_form(request, max_bytes=settings.attachment_max_bytes)
        # An empty form input means "not given", as a missing JSON key does.
        fields = {name: value for name, value in form.fields.items() if value != ""}
        return _validate(model, fields), form.files
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise InvalidInput(f"a JSON body may be at most {MAX_JSON_BYTES} bytes")
    media = media_type(request)
    if not is_json(media) and (body or media is not None):
        # Read as JSON only what says it is (S38): a page of another origin can send
        # text/plain without a preflight, but never application/json.
        raise UnsupportedMediaType("send JSON as application/json, or multipart/form-data")
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidInput("send JSON, or multipart/form-data with files") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    return _validate(model, data), []


def _validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidInput(problems) from None


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """openapi_extra for a route reading ``model`` as JSON or as a form with files."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    form = {
        "type": "object",
        "properties": {
            **schema.get("properties", {}),
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
        },
        "required": schema.get("required", []),
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "multipart/form-data": {"schema": form},
            },
        }
    }
