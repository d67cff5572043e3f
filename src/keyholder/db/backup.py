"""Backups an operator can restore: `keyholder db backup PATH` and `keyholder db restore PATH`.

SQLite is copied with its online backup API, PostgreSQL with ``pg_dump
--format=custom``: both read one consistent snapshot while the service keeps
serving. A backup is written next to its final name and renamed into place only
when complete, so an interrupted backup never leaves a file that looks whole,
and an existing file is never overwritten.

A restore goes into an empty database (a new SQLite file, a new PostgreSQL
database) unless the operator passes ``replace``: it is the one command that
can lose data, so it does not do so by default. A backup made by a newer
Keyholder (a schema revision this code does not know) is refused before
anything is written; one made by an older Keyholder is restored as it is, and
``keyholder db upgrade`` brings it up to date.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL

from keyholder.errors import Conflict, InvalidInput, ServiceUnavailable

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True, slots=True)
class BackupMade:
    path: Path
    size: int
    revision: str | None


@dataclass(frozen=True, slots=True)
class Restored:
    revision: str
    replaced: bool


def backup_database(
    engine: Engine,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    pages_per_step: int = 4096,  # 16 MiB with SQLite's default 4 KiB pages
) -> BackupMade:
    """Write a consistent copy of the database to ``path`` (which must not exist).

    ``progress(copied, total)`` is called as SQLite's pages are copied,
    ``pages_per_step`` at a time (a progress bar); pg_dump reports none.
    """
    if path.exists():
        raise Conflict(f"{path} exists: choose a new file name (a backup never overwrites one)")
    if not path.parent.is_dir():
        raise InvalidInput(f"{path.parent} is not a directory")
    partial = path.with_name(f".{path.name}.partial")
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(engine, partial, progress, pages_per_step)
        else:
            _pg_tool(
                "pg_dump", "--format=custom", "--no-owner", f"--file={partial}", url=engine.url
            )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupMade(path, path.stat().st_size, backup_revision(path))


def restore_database(
    engine: Engine, path: Path, *, known_revisions: frozenset[str], replace: bool = False
) -> Restored:
    """Load the backup at ``path`` into the (empty, unless ``replace``) database."""
    revision = backup_revision(path)
    if revision is None:
        raise InvalidInput(f"{path} is not a Keyholder backup (it has no schema revision)")
    if revision not in known_revisions:
        raise Conflict(
            f"{path} was made by a newer Keyholder (schema revision {revision}): "
            "restore it with that version"
        )
    kind = _kind(path)
    if kind != engine.dialect.name:
        raise InvalidInput(
            f"{path} is a {kind} backup: it restores into {kind}, "
            f"not into this {engine.dialect.name} database"
        )
    tables = inspect(engine).get_table_names()
    if tables and not replace:
        raise Conflict(
            f"the database is not empty ({len(tables)} tables): restore into a new database, "
            "or pass --replace to overwrite this one"
        )
    engine.dispose()  # no pooled connection may outlive the data it read
    if kind == "sqlite":
        _sqlite_restore(engine, path)
    else:
        clean = ["--clean", "--if-exists"] if tables else []
        _pg_tool(
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            *clean,
            str(path),
            url=engine.url,
        )
    engine.dispose()
    return Restored(revision, replaced=bool(tables))


def backup_revision(path: Path) -> str | None:
    """The schema revision recorded in a backup file, without restoring it."""
    kind = _kind(path)
    if kind == "sqlite":
        with closing(_read_only(path)) as source:
            try:
                row = source.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.DatabaseError:
                return None
        return str(row[0]) if row else None
    listing = _pg_tool(
        "pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path)
    )
    # The table's data comes as COPY ... FROM stdin; its rows follow, ended by "\.".
    found = re.search(r"COPY [^\n]*alembic_version[^\n]*\n([^\n\\]+)\n", listing)
    return found.group(1).strip() if found else None


def _kind(path: Path) -> str:
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a backup file") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise InvalidInput(f"{path} is not a Keyholder backup (neither SQLite nor pg_dump's format)")


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _sqlite_backup(
    engine: Engine,
    target: Path,
    progress: Callable[[int, int], None] | None,
    pages_per_step: int,
) -> None:
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        with closing(sqlite3.connect(target)) as copy:
            if progress is None:
                source.backup(copy)  # in one step
                return
            # In steps, so the bar moves; SQLite restarts the copy if another
            # connection writes between two steps, so the result stays consistent.
            source.backup(
                copy,
                pages=pages_per_step,
                progress=lambda _status, remaining, total: progress(total - remaining, total),
                sleep=0,
            )
    finally:
        raw.close()


def _sqlite_restore(engine: Engine, source_path: Path) -> None:
    raw = engine.raw_connection()
    try:
        target = raw.driver_connection
        assert isinstance(target, sqlite3.Connection)
        with closing(_read_only(source_path)) as source:
            source.backup(target)
    finally:
        raw.close()


def _pg_tool(name: str, *args: str, url: URL | None = None) -> str:
    """Run a PostgreSQL client tool (against ``url``: its password goes in the environment,
    never on a command line others can read); returns what it printed."""
    executable = shutil.which(name)
    if executable is None:
        raise ServiceUnavailable(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(the Debian package postgresql-client)"
        )
    env = dict(os.environ)
    if url is not None:
        env |= {
            "PGHOST": url.host or "",
            "PGPORT": str(url.port or 5432),
            "PGUSER": url.username or "",
            "PGDATABASE": url.database or "",
        }
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        args = (*args, f"--dbname={url.database}") if name == "pg_restore" else args
    # No shell; the arguments are ours and a path given as one argument.
    done = subprocess.run(  # noqa: S603
        [executable, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ServiceUnavailable(f"{name} failed: {_last_line(done.stderr)}")
    return done.stdout


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
