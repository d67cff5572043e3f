"""Alembic environment: run by keyholder.db.migrate with a connection in config.attributes."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from keyholder.db.base import load_all_models

target_metadata = load_all_models()


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `keyholder db upgrade`, which passes a connection")
run_migrations(connection)
