"""keyholder db …"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from keyholder.cli.common import fail, first_line, handle_errors, runtime
from keyholder.cli.progress import progress_bar
from keyholder.db import migrate
from keyholder.db.backup import backup_database, restore_database

app = typer.Typer(help="Database schema.", no_args_is_help=True)

# A SQLite database this big takes a second or more to copy: worth a bar (4 KiB pages).
_BAR_PAGES = 32_768


def _sqlite_pages(engine: Engine) -> int:
    """The SQLite database's size in pages; 0 for PostgreSQL (pg_dump reports no progress)."""
    if engine.dialect.name != "sqlite":
        return 0
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA page_count").scalar() or 0)


@app.command("upgrade")
def upgrade() -> None:
    """Apply all migrations."""
    engine = runtime().engine
    try:
        migrate.upgrade(engine, settings=runtime().settings)
    except DBAPIError as exc:
        fail(f"upgrade failed, nothing applied: {first_line(exc)}")
    typer.echo(f"database at revision {migrate.current_revision(engine)}")


@app.command("check")
@handle_errors
def check() -> None:
    """Exit 1 unless the schema is at the newest revision and matches the models."""
    engine = runtime().engine
    current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    if current != head:
        fail(
            f"database is at revision {current or 'none'}, newest is {head}: "
            "run `keyholder db upgrade`"
        )
    differences = migrate.schema_differences(engine)
    if differences:
        fail(f"schema differs from the models in {len(differences)} place(s): {differences[0]}")
    typer.echo(f"database at revision {current}; schema matches the models")


def require_current_schema() -> None:
    """Stop long-running commands early on a database that needs `db upgrade`."""
    engine = runtime().engine
    if migrate.current_revision(engine) != migrate.head_revision(engine):
        fail("the database schema is not current: run `keyholder db upgrade` first")


@app.command("backup")
@handle_errors
def backup(
    path: Path = typer.Argument(..., help="the file to write (it must not exist)"),
) -> None:
    """Copy the database to PATH while the service keeps running (SQLite: its online
    backup; PostgreSQL: pg_dump's custom format)."""
    started = time.monotonic()
    engine = runtime().engine
    with progress_bar("Backing up", _sqlite_pages(engine), long_run=_BAR_PAGES) as advance:
        copied = 0

        def moved(done: int, _total: int) -> None:
            nonlocal copied
            if advance is not None:
                advance(done - copied)
            copied = done

        made = backup_database(engine, path, progress=moved if advance is not None else None)
    typer.echo(
        f"backed up the database at revision {made.revision} to {made.path} "
        f"({made.size:,} bytes in {time.monotonic() - started:.1f} s)"
    )


@app.command("restore")
@handle_errors
def restore(
    path: Path = typer.Argument(..., help="a file written by `keyholder db backup`"),
    replace: bool = typer.Option(
        False, "--replace", help="overwrite a database that is not empty (stop the service first)"
    ),
) -> None:
    """Load a backup into an empty database (a new SQLite file or PostgreSQL database)."""
    engine = runtime().engine
    started = time.monotonic()
    done = restore_database(
        engine, path, known_revisions=migrate.known_revisions(engine), replace=replace
    )
    typer.echo(
        f"restored {path} (schema revision {done.revision}) in {time.monotonic() - started:.1f} s"
    )
    if done.revision != migrate.head_revision(engine):
        typer.echo("the backup is from an older version: run `keyholder db upgrade` next")
