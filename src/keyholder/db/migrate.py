"""Schema migrations (Alembic), driven from code so the CLI and tests share them."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from keyholder.config import Settings
from keyholder.db.base import load_all_models


def alembic_config(engine: Engine, settings: Settings | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "keyholder:migrations")
    config.attributes["engine"] = engine
    config.attributes["settings"] = settings  # for data migrations that need keys
    return config


def upgrade(engine: Engine, revision: str = "head", *, settings: Settings | None = None) -> None:
    """Migrate to ``revision``; ``settings`` gives keys to migrations that encrypt data."""
    config = alembic_config(engine, settings)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def schema_differences(engine: Engine) -> list[Any]:
    """What autogenerate would change between the models and the live schema."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, load_all_models()))
