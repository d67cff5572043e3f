"""What every CLI command shares: the runtime, the operator, output and errors."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.config import Settings
from keyholder.db import migrate
from keyholder.errors import KeyholderError
from keyholder.identity.actor import Actor

P = ParamSpec("P")
R = TypeVar("R")

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


# The running command's root context, set by the app's callback. (Typer vendors
# Click and keeps its get_current_context() private, so we remember it ourselves.)
_root_context: ContextVar[typer.Context | None] = ContextVar("keyholder_cli_root", default=None)


def remember_context(ctx: typer.Context) -> None:
    """The app's callback: lets runtime() find this invocation's context object."""
    token = _root_context.set(ctx)
    ctx.call_on_close(lambda: _root_context.reset(token))


def runtime() -> Runtime:
    """The Runtime this command runs with.

    Whoever invokes the app may hand one in as the context object
    (``app(obj=runtime)``, ``CliRunner().invoke(app, args, obj=runtime)``) and
    keeps ownership of it. Otherwise one is built from the environment on first
    use, kept for the rest of the command and closed when the command ends.
    """
    ctx = _root_context.get()
    if ctx is None:
        raise RuntimeError("runtime() works only inside a command of the keyholder app")
    if not isinstance(ctx.obj, Runtime):
        built = _runtime_from_environment()
        ctx.obj = built
        ctx.call_on_close(built.close)
    return ctx.obj


def _runtime_from_environment() -> Runtime:
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"configuration: {first['msg'].removeprefix('Value error, ')}", code=2)
    return bootstrap(settings)


def operator() -> Actor:
    return Actor.operator(getpass.getuser())


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Keyholder and database errors into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KeyholderError as exc:
            fail(exc.detail)
        except DBAPIError as exc:
            fail(database_problem(exc))

    return wrapper


def database_problem(exc: DBAPIError) -> str:
    """What to tell the operator about a database error, in one line.

    The usual causes are a database that was never migrated (missing tables)
    and a server that cannot be reached; the first has a fix to suggest.
    """
    reason = first_line(exc)
    if _schema_is_behind():
        return f"the database schema is not current ({reason}): run `keyholder db upgrade`"
    return f"database: {reason}"


def first_line(exc: DBAPIError) -> str:
    """The driver's own message without SQLAlchemy's SQL and background link."""
    lines = str(exc.orig).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__


def _schema_is_behind() -> bool:
    engine = runtime().engine
    try:
        return migrate.current_revision(engine) != migrate.head_revision(engine)
    except DBAPIError:
        return False  # unreachable: say so rather than guess


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    typer.echo("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value).replace("\n", " ")
