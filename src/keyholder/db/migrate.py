"""Schema migrations (Alembic), driven from code so the CLI and tests share them.

Alembic (with Mako) is imported inside the functions: every CLI command
imports this module, few of them migrate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from keyholder.config import Settings
from keyholder.db.base import load_all_models

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(engine: Engine, settings: Settings | None = None) -> Config:
    from alembic.config import Config  # noqa: PLC0415 - see the module's docstring

    config = Config()
    config.set_main_option("script_location", "keyholder:migrations")
    config.attributes["engine"] = engine
    config.attributes["settings"] = settings  # for data migrations that need keys
    return config


def upgrade(engine: Engine, revision: str = "head", *, settings: Settings | None = None) -> None:
    """Migrate to ``revision``; ``settings`` gives keys to migrations that encrypt data."""
    from alembic import command  # noqa: PLC0415

    config = alembic_config(engine, settings)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext  # noqa: PLC0415

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def known_revisions(engine: Engine) -> frozenset[str]:
    """Every schema revision this version of Keyholder can migrate from."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    script = ScriptDirectory.from_config(alembic_config(engine))
    return frozenset(revision.revision for revision in script.walk_revisions())


def schema_differences(engine: Engine) -> list[Any]:
    """What autogenerate would change between the models and the live schema."""
    from alembic.autogenerate import compare_metadata  # noqa: PLC0415
    from alembic.migration import MigrationContext  # noqa: PLC0415

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, load_all_models()))
