"""keyholder db …"""

from __future__ import annotations

import typer
from sqlalchemy.exc import DBAPIError

from keyholder.cli.common import fail, first_line, handle_errors, runtime
from keyholder.db import migrate

app = typer.Typer(help="Database schema.", no_args_is_help=True)


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
