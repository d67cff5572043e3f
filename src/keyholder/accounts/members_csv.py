"""The members file: CSV in, CSV out, no database (``keyholder members import|export``).

The file lists the members an account should have, one row each::

    email,permissions
    alice@acme.example,view;manage;billing
    bob@acme.example,view create
    carol@acme.example,,remove      (with an ``action`` column: take carol off)

- A header row is required. Columns ``email`` and ``permissions`` are; an
  ``action`` column may follow, empty or ``set`` (the default: the row's
  permissions are the member's complete set) or ``remove``. Other column names
  are refused, so a misspelt one is not silently ignored.
- ``permissions`` are separated by ``;``, ``,`` or spaces; ``view`` is implied.
- Emails are compared case-insensitively (``normalize_email``); one row per email.
- UTF-8, with or without a byte-order mark; CRLF or LF; blank lines are skipped.
- A leading ``'`` in a cell is the spreadsheet's "this is text" mark and is
  dropped: the export writes one before a cell that starts with ``= + - @``, a
  tab or a carriage return (and before one that starts with ``'``), so the file
  opens in a spreadsheet without running anything (OWASP: CSV injection) and
  imports back unchanged.

The parser never raises on bad input: it returns every row error it found, each
with its line (the header is line 1) and column, so the operator fixes the whole
file at once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TextIO

from keyholder.accounts.permissions import PermissionSet, ordered, parse_permissions
from keyholder.errors import InvalidInput, RowError
from keyholder.identity.emails import normalize_email

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
# A member row is short; a cell this long is a wrong file, and csv's own limit is far above.
MAX_CELL_CHARS = 1_000

EMAIL, PERMISSIONS, ACTION = "email", "permissions", "action"
REQUIRED_COLUMNS = (EMAIL, PERMISSIONS)
KNOWN_COLUMNS = (EMAIL, PERMISSIONS, ACTION)

_SEPARATORS = re.compile(r"[;,\s]+")
# Cells a spreadsheet would take for a formula (OWASP), and our own escape mark.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


class RowAction(StrEnum):
    SET = "set"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One valid row: the member ``email`` should have ``permissions``, or be removed."""

    line: int
    email: str
    action: RowAction
    permissions: PermissionSet = frozenset()


@dataclass(slots=True)
class ParsedFile:
    rows: list[MemberRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_members_csv(data: bytes) -> ParsedFile:
    """Every valid row of a members file, and every error, in file order."""
    parsed = ParsedFile()
    if len(data) > MAX_FILE_BYTES:
        parsed.errors.append(
            RowError(1, "", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        )
        return parsed
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        parsed.errors.append(RowError(line, "", "the file is not UTF-8 text"))
        return parsed
    records = _records(text, parsed.errors)
    header = next(records, None)
    if header is None:
        if not parsed.errors:
            parsed.errors.append(RowError(1, "", "the file is empty: it needs a header row"))
        return parsed
    header_line, names = header
    columns = _columns(header_line, names, parsed.errors)
    if columns is None:
        return parsed
    first_line: dict[str, int] = {}
    for count, (line, cells) in enumerate(records, start=1):
        if count > MAX_ROWS:
            parsed.errors.append(RowError(line, "", f"the file has more than {MAX_ROWS} rows"))
            break
        row = _row(line, cells, columns, parsed.errors)
        if row is None:
            continue
        if row.email in first_line:
            parsed.errors.append(
                RowError(
                    line,
                    EMAIL,
                    f"{row.email} is also on line {first_line[row.email]}: one row per email",
                )
            )
            continue
        first_line[row.email] = line
        parsed.rows.append(row)
    return parsed


def _records(text: str, errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on; a record csv cannot read ends it."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(RowError(line, "", f"not valid CSV: {exc}"))
            return
        if any(cell.strip() for cell in cells):
            yield line, cells


def _columns(line: int, names: list[str], errors: list[RowError]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    problems = []
    for index, raw in enumerate(names):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in KNOWN_COLUMNS:
            problems.append(
                f"unknown column {raw.strip()[:40]!r} (columns: {', '.join(KNOWN_COLUMNS)})"
            )
        elif name in columns:
            problems.append(f"column {name!r} appears twice")
        else:
            columns[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        problems.append(
            f"the header row must name the columns {', '.join(REQUIRED_COLUMNS)} "
            f"(missing: {', '.join(missing)})"
        )
    errors.extend(RowError(line, "", problem) for problem in problems)
    return None if problems else columns


def _row(
    line: int, cells: list[str], columns: dict[str, int], errors: list[RowError]
) -> MemberRow | None:
    width = max(columns.values()) + 1
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        errors.append(RowError(line, "", f"{len(cells)} cells, but the header names {width}"))
        return None
    found_before = len(errors)

    def cell(name: str) -> str:
        index = columns.get(name)
        value = cells[index] if index is not None and index < len(cells) else ""
        value = value.strip()
        if value.startswith("'"):
            value = value[1:]
        if len(value) > MAX_CELL_CHARS:
            errors.append(RowError(line, name, f"longer than {MAX_CELL_CHARS} characters"))
            return ""
        if "\x00" in value:
            errors.append(RowError(line, name, "contains a NUL character"))
            return ""
        return value

    email_cell, permissions_cell, action_cell = cell(EMAIL), cell(PERMISSIONS), cell(ACTION)
    if len(errors) > found_before:
        return None
    action = _action(line, action_cell, errors)
    email = _email(line, email_cell, errors)
    permissions: PermissionSet = frozenset()
    if action is RowAction.REMOVE:
        if permissions_cell:
            errors.append(RowError(line, PERMISSIONS, "must be empty on a remove row"))
    elif action is RowAction.SET:
        try:
            permissions = parse_permissions(_SEPARATORS.split(permissions_cell))
        except InvalidInput as exc:
            errors.append(RowError(line, PERMISSIONS, exc.detail))
    if len(errors) > found_before or email is None or action is None:
        return None
    return MemberRow(line=line, email=email, action=action, permissions=permissions)


def _action(line: int, value: str, errors: list[RowError]) -> RowAction | None:
    name = value.lower() or RowAction.SET
    try:
        return RowAction(name)
    except ValueError:
        reason = f"{value[:40]!r} is not an action: leave it empty, or set or remove"
        errors.append(RowError(line, ACTION, reason))
        return None


def _email(line: int, value: str, errors: list[RowError]) -> str | None:
    if not value:
        errors.append(RowError(line, EMAIL, "is empty"))
        return None
    try:
        return normalize_email(value)
    except InvalidInput as exc:
        errors.append(RowError(line, EMAIL, exc.detail))
        return None


def write_members_csv(out: TextIO, members: Iterable[tuple[str, PermissionSet]]) -> int:
    """Write ``email,permissions`` rows that ``parse_members_csv`` reads back; returns rows."""
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as spreadsheets write it
    writer.writerow(REQUIRED_COLUMNS)
    written = 0
    for email, permissions in members:
        writer.writerow([safe_cell(email), safe_cell(";".join(ordered(permissions)))])
        written += 1
    return written


def safe_cell(value: str) -> str:
    """``value``, with a leading ``'`` when a spreadsheet could take it for a formula."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
