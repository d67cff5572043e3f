"""One SELECT compiled once, run straight on the pool's driver connection.

For the reads made on every request (the credential check, the member
lookup): a use case whose whole work is one indexed SELECT. SQLAlchemy's ORM
session and its Core execution cost several times the query itself there
(session and transaction objects, the statement cache look-up, result
metadata, two rollbacks). Here the statement is compiled once per dialect,
with SQLAlchemy's own type processors kept for the parameters and the
columns, so a row reads back exactly as SQLAlchemy would read it (a test
compares them on both engines). The statement runs on the driver connection
borrowed from the engine's pool and given back at once.

A single statement needs no transaction of its own: SQLite's driver runs in
autocommit (see ``engine._on_connect``) and PostgreSQL's connection is put in
autocommit for the statement. Either way the statement reads one consistent
snapshot, as ``single_read`` does for the ORM.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Engine, Select
from sqlalchemy.exc import DBAPIError

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: bool
    binds: tuple[tuple[str, _Processor], ...]  # in the statement's order when positional
    columns: tuple[_Processor, ...]
    row: Callable[..., Any]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        processed = [(n, p(values[n]) if p else values[n]) for n, p in self.binds]
        if self.positional:
            return tuple(v for _, v in processed)
        return dict(processed)

    def make_row(self, raw: tuple[Any, ...]) -> Any:
        return self.row(*(p(v) if p else v for p, v in zip(self.columns, raw, strict=True)))


class PreparedRead:
    """A SELECT of named columns; ``first`` returns a named tuple, as ``Result.first()`` does."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self._statement = statement
        self._keys = tuple(statement.selected_columns.keys())
        self._row = namedtuple("Row", self._keys)  # type: ignore[misc]
        self._compiled: dict[str, _Compiled] = {}

    def first(self, engine: Engine, values: Mapping[str, Any]) -> Any | None:
        """The first row for ``values`` (every bound parameter by name), or None.

        A connection found dead (the server restarted, say) is dropped and the
        read made once more on a fresh one: a read can always be repeated."""
        compiled = self._compiled.get(engine.dialect.name) or self._compile(engine.dialect)
        parameters = compiled.parameters(values)
        try:
            raw = _fetch_one(engine, compiled.sql, parameters)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            raw = _fetch_one(engine, compiled.sql, parameters)
        return None if raw is None else compiled.make_row(tuple(raw))

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._statement.compile(dialect=dialect)
        positional = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if positional else list(compiled.binds)
        binds = tuple(
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        )
        columns = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self._statement.selected_columns
        )
        prepared = _Compiled(compiled.string, positional, binds, columns, self._row)
        self._compiled[dialect.name] = prepared
        return prepared


def _fetch_one(engine: Engine, sql: str, parameters: Any) -> Any:
    connection = engine.raw_connection()
    dialect = engine.dialect
    postgresql = dialect.name == "postgresql"
    try:
        driver: Any = connection.driver_connection
        cursor = connection.cursor()
        try:
            if postgresql:
                driver.autocommit = True
            cursor.execute(sql, parameters)
            return cursor.fetchone()
        except dialect.loaded_dbapi.Error as error:
            disconnected = dialect.is_disconnect(error, driver, cursor)
            if disconnected:
                connection.invalidate(error)
            raise DBAPIError.instance(
                sql,
                parameters,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=disconnected,
                dialect=dialect,
            ) from error
        finally:
            cursor.close()
            if postgresql and connection.is_valid:
                driver.autocommit = False
    finally:
        connection.close()  # back to the pool (or away, when invalidated)
