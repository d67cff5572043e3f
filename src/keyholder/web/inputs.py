"""What any input may be (S39): numbers our columns can hold, and text without NUL.

Both were 500s. A number past a column's range overflowed in the database
driver (SQLite's 64 bits, PostgreSQL's 32-bit ``integer``), and PostgreSQL
refuses text holding a NUL character. They are refused where they come in,
with a 422, the same on both databases:

- numbers: ``RowNumber`` types every ticket number, id and paging cursor taken
  from a path, a query, a body or a form (``row_number`` reads one from text);
- text: ``Body`` (``web.api.schemas``) refuses NUL anywhere in a request body,
  ``web.uploads`` and the pages' forms in their fields, and ``RefuseNulInUrl``
  (``web.input_guards``) in the path and the query of every request;
- size: ``LimitApiBodies`` (``web.input_guards``) cuts an API body other than
  an upload off at ``MAX_API_BODY_BYTES`` (413), as ``web.uploads`` does
  uploads: FastAPI would otherwise read any body whole before looking at it.

This module needs only pydantic; the ASGI middleware is in
``web.input_guards``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError

from keyholder.db.types import INTEGER_MAX

RowNumber = Annotated[int, Field(ge=1, le=INTEGER_MAX)]
"""A ticket number, a row id or a cursor naming one: 1 to ``INTEGER_MAX``."""

_ROW_NUMBER: TypeAdapter[int] = TypeAdapter(RowNumber)
NUL_REFUSED = "text may not contain NUL characters"
# A JSON body: a message (200,000 characters, 4 bytes each at worst) fits.
MAX_API_BODY_BYTES = 1024 * 1024


def row_number(text: str) -> int | None:
    """``text`` as a ``RowNumber`` (ASCII digits only), or None when it is not one."""
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return _ROW_NUMBER.validate_python(int(text))
    except ValidationError:
        return None


def contains_nul(value: object) -> bool:
    """Whether a NUL character is in ``value``: a string, or in a JSON-like structure's."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False
