"""Engines for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

# Execution option a write unit of work sets on its connection. On SQLite it
# turns the transaction into BEGIN IMMEDIATE, taking the single write lock up
# front, so read-then-write checks (the last-admin guard, the audit chain)
# cannot race another process and fail late with "database is locked".
WRITE_OPTION = "keyholder_write"


# A pooled PostgreSQL connection idle longer than this is pinged before use.
PING_AFTER_IDLE_SECONDS = 10.0


def make_engine(
    url: str, *, ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS, **kwargs: Any
) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(url, **kwargs)
    engine = create_engine(url, **kwargs)
    _ping_idle_connections(engine, ping_after_idle_seconds)
    return engine


def _ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when it has been idle a while.

    ``pool_pre_ping`` pings on every checkout: one extra round trip for each
    short read, half the database work of a member lookup. A connection in
    steady use needs none; one that sat idle may have been closed by the
    server, a restart or a firewall, and is pinged. A ping that fails raises
    ``DisconnectionError``, on which the pool drops that connection and every
    older one and hands out a new connection instead (SQLAlchemy's
    "pessimistic" disconnect handling). A connection that dies mid-use fails
    that statement, as it would with pre-ping too, and the pool is refreshed.
    """

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["keyholder_idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("keyholder_idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # new, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("an idle pooled connection was closed") from error


def _make_sqlite_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed.set(drivername=f"sqlite+{_SQLITE_DRIVER}"),
        connect_args={"check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to the dialect's do_begin below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class KeyholderSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite whose transactions SQLAlchemy begins: BEGIN, or BEGIN IMMEDIATE to write.

    The driver's own transaction handling is off (see ``_on_connect``), as it
    would not begin one before a SELECT. Reads begin in ``do_begin`` rather
    than in an engine "begin" event: any engine event listener makes every
    statement on every connection dispatch events, which cost a short read
    (an API token check, a member lookup) some 15 microseconds each. Only an
    engine made with ``WRITE_OPTION`` gets a listener, for BEGIN IMMEDIATE.
    """

    supports_statement_cache = True

    def do_begin(self, dbapi_connection: Any) -> None:
        if not dbapi_connection.in_transaction:  # a writer's listener has begun already
            dbapi_connection.execute("BEGIN")

    def set_engine_execution_options(self, engine: Engine, opts: Mapping[str, Any]) -> None:
        super().set_engine_execution_options(engine, opts)
        if opts.get(WRITE_OPTION):
            event.listen(engine, "begin", _begin_immediate)


def _begin_immediate(connection: Connection) -> None:
    # Straight to the driver, as do_begin: no SQLAlchemy execution for a BEGIN.
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


_SQLITE_DRIVER = "keyholder"
registry.register(f"sqlite.{_SQLITE_DRIVER}", __name__, "KeyholderSQLiteDialect")


def single_read(session: Session) -> Connection:
    """The connection for a use case that is one SELECT, from its unit of work's session.

    A statement is atomic and reads one snapshot by itself, so on PostgreSQL
    it runs in autocommit: no BEGIN and ROLLBACK, two of its three round trips
    and most of the server's work for an indexed lookup. (At READ COMMITTED a
    transaction would not give two statements one snapshot either.) SQLite
    begins and rolls back in-process, for next to nothing, so it keeps its
    transaction. Call it before anything else uses the session: a connection
    already open keeps its transaction, and SQLAlchemy warns.
    """
    if session.get_bind().dialect.name == "postgresql":
        return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session.connection()


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
