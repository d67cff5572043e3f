"""The schema comes from the Alembic migrations, and they match the models."""

from __future__ import annotations

from sqlalchemy import inspect

from keyholder.db import migrate
from keyholder.db.base import load_all_models


def test_upgrade_head_leaves_nothing_for_autogenerate(engine):
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    assert migrate.schema_differences(engine) == []


def test_every_model_table_exists(engine):
    assert set(load_all_models().tables) <= set(inspect(engine).get_table_names())


def test_upgrade_is_idempotent(engine):
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine):
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
