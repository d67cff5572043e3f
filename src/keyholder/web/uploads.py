"""Reading multipart/form-data uploads within a size limit, while they stream (S33).

A request announcing more than the limit in Content-Length is refused before
a byte of its body is read; a body without one (chunked) is counted as it
arrives and cut off with 413 as soon as it passes the limit, so no upload is
ever read whole before its size is known. What the form's files are is left
to ``desk.sniff``: here a file is just a name and bytes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from keyholder.desk.attachments import NewAttachment
from keyholder.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from keyholder.web.inputs import NUL_REFUSED, contains_nul

MULTIPART = "multipart/form-data"
# Text fields (a reply's body: up to 200,000 characters, 4 UTF-8 bytes each at worst).
MAX_FIELD_BYTES = 1024 * 1024
MAX_FIELDS = 20
# Boundaries and part headers around the files and fields: generous, and still bounded.
FRAMING_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class UploadForm:
    """A form's text fields (one value each) and its files, in the order sent."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[NewAttachment] = field(default_factory=list)


def is_multipart(request: Request) -> bool:
    """Whether the request says its body is multipart/form-data."""
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    return content_type == MULTIPART.encode()


async def read_upload_form(
    request: Request,
    *,
    max_bytes: int,
    max_files: int = 10,
    max_field_bytes: int = MAX_FIELD_BYTES,
) -> UploadForm:
    """The request's multipart form, read within limits: 413 past them, 415 if not multipart.

    ``max_bytes`` bounds the files together; the body may carry at most that
    plus ``max_field_bytes`` of text fields and some framing. A malformed form,
    too many files or fields, a field sent twice or holding NUL → 422. Empty file inputs
    (a browser's "no file chosen") are left out.
    """
    if not is_multipart(request):
        raise UnsupportedMediaType(f"send this form as {MULTIPART}")
    limit = max_bytes + max_field_bytes + FRAMING_BYTES
    announced = request.headers.get("content-length")
    if announced is not None:
        if not (announced.isascii() and announced.isdigit()):
            raise InvalidInput("the Content-Length header is not a number")
        if int(announced) > limit:
            raise PayloadTooLarge(_too_large(max_bytes))
    async with aclosing(_bounded(request.stream(), limit, max_bytes)) as body:
        parser = MultiPartParser(
            request.headers,
            body,
            max_files=max_files,
            max_fields=MAX_FIELDS,
            max_part_size=max_field_bytes,
        )
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise InvalidInput(f"the form cannot be read: {exc.message}") from exc
    try:
        return await _collect(form.multi_items(), max_bytes)
    finally:
        await form.close()


async def _bounded(
    stream: AsyncGenerator[bytes, None], limit: int, max_bytes: int
) -> AsyncGenerator[bytes, None]:
    """``stream``, cut off with 413 once more than ``limit`` bytes have come."""
    received = 0
    async with aclosing(stream):
        async for chunk in stream:
            received += len(chunk)
            if received > limit:
                raise PayloadTooLarge(_too_large(max_bytes))
            yield chunk


async def _collect(items: list[tuple[str, str | UploadFile]], max_bytes: int) -> UploadForm:
    form = UploadForm()
    total = 0
    for name, value in items:
        if isinstance(value, str):
            if name in form.fields:
                raise InvalidInput(f"the form field {name!r} was sent more than once")
            if contains_nul(name) or contains_nul(value):
                raise InvalidInput(NUL_REFUSED)  # S39
            form.fields[name] = value
            continue
        data = await _read_within(value, max_bytes - total)
        if not data and not value.filename:
            continue  # an empty file input
        total += len(data)
        form.files.append(NewAttachment(filename=value.filename or "", data=data))
    return form


async def _read_within(upload: UploadFile, remaining: int) -> bytes:
    # The body was bounded while it streamed; this bounds the files together,
    # since fields and framing may have left room for more file bytes.
    data = await upload.read(remaining + 1)
    if len(data) > remaining:
        raise PayloadTooLarge("the attached files are too large together")
    return data


def _too_large(max_bytes: int) -> str:
    return f"the upload is too large: attachments may total at most {max_bytes} bytes"
