"""Alembic environment: run by keyholder.db.migrate with a connection in config.attributes."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from keyholder.db.base import load_all_models

target_metadata = load_all_models()


def render_item(kind: str, item: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our TypeDecorators as the column type they store, so migrations stay
    plain SQLAlchemy and keep working when a Python-side type changes."""
    if kind == "type" and isinstance(item, TypeDecorator):
        impl = item.impl_instance
        return f"sa.{impl!r}"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `keyholder db upgrade`, which passes a connection")
run_migrations(connection)
