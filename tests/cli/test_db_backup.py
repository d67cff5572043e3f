"""keyholder db backup PATH / db restore PATH: a backup restores into a new database whole."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from keyholder.accounts.service import create_account
from keyholder.bootstrap import Runtime, bootstrap
from keyholder.db import migrate
from keyholder.db.backup import backup_database, restore_database
from keyholder.errors import Conflict
from tests.cli import Cli, assert_error
from tests.cli.test_audit import make_history
from tests.cli.test_db import settings_for
from tests.conftest import throwaway_postgresql_database
from tests.factories import OPERATOR


@pytest.fixture
def fresh(runtime: Runtime, tmp_path: Path) -> Iterator[Cli]:
    """The command on a new, empty database of the kind under test (never migrated)."""
    if runtime.engine.dialect.name == "sqlite":
        other = bootstrap(settings_for(f"sqlite:///{tmp_path / 'restored.db'}"))
        yield Cli(other)
        other.close()
        return
    with throwaway_postgresql_database() as url:
        other = bootstrap(settings_for(url))
        yield Cli(other)
        other.close()


def test_a_backup_restores_into_a_new_database_and_its_audit_chain_verifies(
    cli: Cli, fresh: Cli, tmp_path: Path
) -> None:
    make_history(cli)
    backup = tmp_path / "keyholder.backup"

    made = cli.ok("db", "backup", str(backup)).stdout
    restored = fresh.ok("db", "restore", str(backup)).stdout

    head = migrate.head_revision(cli.runtime.engine)
    assert made.startswith(f"backed up the database at revision {head} to {backup} (")
    assert restored.startswith(f"restored {backup} (schema revision {head}) in ")
    assert fresh.json("accounts", "list") == cli.json("accounts", "list")
    assert fresh.json("members", "list", "-a", "acme-corp") == cli.json(
        "members", "list", "-a", "acme-corp"
    )
    assert fresh.json("audit", "list") == cli.json("audit", "list")
    assert fresh.ok("audit", "verify").stdout == "audit chain intact: 3 events\n"
    fresh.ok("db", "check")


def test_a_backup_never_overwrites_a_file(cli: Cli, tmp_path: Path) -> None:
    existing = tmp_path / "monday.backup"
    existing.write_bytes(b"last week's backup")

    result = cli("db", "backup", str(existing))

    assert_error(result, f"{existing} exists: choose a new file name")
    assert existing.read_bytes() == b"last week's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monday.backup"]  # no partial file


def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    make_history(cli)
    backup = tmp_path / "keyholder.backup"
    cli.ok("db", "backup", str(backup))
    cli.ok("accounts", "create", "globex", "--contract", "ENT-2024-000777")

    result = cli("db", "restore", str(backup))

    assert_error(result, "the database is not empty", "--replace")
    assert [a["name"] for a in cli.json("accounts", "list")] == ["acme-corp", "globex"]


def test_replace_puts_the_backup_back_over_later_changes(cli: Cli, tmp_path: Path) -> None:
    make_history(cli)
    backup = tmp_path / "keyholder.backup"
    cli.ok("db", "backup", str(backup))
    cli.ok("accounts", "create", "globex", "--contract", "ENT-2024-000777")

    cli.ok("db", "restore", str(backup), "--replace")

    assert [a["name"] for a in cli.json("accounts", "list")] == ["acme-corp"]
    assert cli.ok("audit", "verify").stdout == "audit chain intact: 3 events\n"


def test_a_backup_from_a_newer_version_is_refused_before_anything_is_written(
    cli: Cli, fresh: Cli, tmp_path: Path
) -> None:
    make_history(cli)
    backup = tmp_path / "keyholder.backup"
    cli.ok("db", "backup", str(backup))
    engine = fresh.runtime.engine

    with pytest.raises(Conflict, match="made by a newer Keyholder"):
        restore_database(engine, backup, known_revisions=frozenset({"0001"}))

    assert migrate.current_revision(engine) is None  # still empty


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"name,email\n", "is not a Keyholder backup"), (None, "does not exist")],
)
def test_a_file_that_is_not_a_backup_is_refused(
    fresh: Cli, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "members.csv"
    if content is not None:
        path.write_bytes(content)

    assert_error(fresh("db", "restore", str(path)), message)


def test_a_sqlite_backup_does_not_restore_into_postgresql(
    runtime: Runtime, fresh: Cli, tmp_path: Path
) -> None:
    if runtime.engine.dialect.name == "sqlite":
        pytest.skip("PostgreSQL only: a SQLite file is the other kind of backup there")
    backup = tmp_path / "small.db"
    with closing(sqlite3.connect(backup)) as db:
        db.executescript("CREATE TABLE alembic_version (version_num TEXT); ")
        db.execute("INSERT INTO alembic_version VALUES (?)", ("0001",))
        db.commit()

    assert_error(fresh("db", "restore", str(backup)), "is a sqlite backup", "not into this")


def test_a_backup_taken_while_accounts_are_created_is_one_consistent_moment(
    cli: Cli, fresh: Cli, tmp_path: Path
) -> None:
    """The service keeps writing during the backup: what is restored is whole (each
    account with its audit event, the chain intact), only possibly older."""
    stop = threading.Event()
    created: list[str] = []

    def keep_creating() -> None:
        while not stop.is_set() and len(created) < 400:
            name = f"account-{len(created):03d}"
            create_account(
                cli.runtime.uow(),
                name=name,
                contract_number=f"ENT-2024-{len(created):06d}",
                actor=OPERATOR,
            )
            created.append(name)

    writer = threading.Thread(target=keep_creating)
    writer.start()
    try:
        while len(created) < 5 and writer.is_alive():
            time.sleep(0.01)
        cli.ok("db", "backup", str(tmp_path / "busy.backup"))
    finally:
        stop.set()
        writer.join()

    fresh.ok("db", "restore", str(tmp_path / "busy.backup"))
    accounts = [a["name"] for a in fresh.json("accounts", "list")]
    events = fresh.json("audit", "list", "--limit", "10000")
    assert 5 <= len(accounts) <= len(created)
    assert sorted(accounts) == created[: len(accounts)]  # a prefix: nothing half-written
    assert len(events) == len(accounts)
    assert fresh.ok("audit", "verify").stdout == f"audit chain intact: {len(events)} events\n"


def test_a_backup_in_steps_reports_its_progress_and_is_one_moment_while_writes_go_on(
    cli: Cli, fresh: Cli, tmp_path: Path
) -> None:
    """The copy behind the progress bar goes a few pages at a time; SQLite starts
    it again when another connection writes in between: what is restored is whole."""
    if cli.runtime.engine.dialect.name != "sqlite":
        pytest.skip("pg_dump reports no progress")
    created: list[str] = []

    def keep_creating() -> None:
        while len(created) < 150:
            name = f"account-{len(created):03d}"
            create_account(
                cli.runtime.uow(),
                name=name,
                contract_number=f"ENT-2024-{len(created):06d}",
                actor=OPERATOR,
            )
            created.append(name)

    writer = threading.Thread(target=keep_creating)
    writer.start()
    reported: list[tuple[int, int]] = []
    try:
        while len(created) < 5 and writer.is_alive():
            time.sleep(0.01)
        backup_database(
            cli.runtime.engine,
            tmp_path / "stepped.backup",
            progress=lambda done, total: reported.append((done, total)),
            pages_per_step=2,
        )
    finally:
        writer.join()

    assert len(reported) > 1
    assert reported[-1][0] == reported[-1][1]  # the bar reaches its end
    fresh.ok("db", "restore", str(tmp_path / "stepped.backup"))
    accounts = [a["name"] for a in fresh.json("accounts", "list")]
    assert sorted(accounts) == created[: len(accounts)]  # a prefix: nothing half-written
    assert fresh.ok("audit", "verify").stdout.startswith("audit chain intact")
