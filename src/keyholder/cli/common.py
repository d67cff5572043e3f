"""What every CLI command shares: the runtime, the operator, output and errors."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.config import Settings
from keyholder.errors import KeyholderError
from keyholder.identity.actor import Actor

P = ParamSpec("P")
R = TypeVar("R")

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@functools.cache
def runtime() -> Runtime:
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"configuration: {first['msg'].removeprefix('Value error, ')}", code=2)
    return bootstrap(settings)


def operator() -> Actor:
    return Actor.operator(getpass.getuser())


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Keyholder errors into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KeyholderError as exc:
            fail(exc.detail)

    return wrapper


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    rows = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    typer.echo("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value).replace("\n", " ")
