"""keyholder db upgrade|check, demo, and --help on every command."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.core import TyperGroup

from keyholder.accounts.models import AccountContact, ContactKind
from keyholder.accounts.service import ContactInput, create_account
from keyholder.bootstrap import Runtime, bootstrap
from keyholder.cli import LoadedLater, app
from keyholder.config import Settings
from keyholder.db import migrate
from keyholder.demo import demo_steps, load_demo_data
from keyholder.identity.models import User
from tests.cli import Cli, assert_error
from tests.conftest import TEST_SECRET
from tests.factories import OPERATOR


def command_paths() -> list[list[str]]:
    """Every group and command of the app, as the words that reach it."""
    paths: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        paths.append(path)
        if isinstance(command, TyperGroup):
            context = typer.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                # The top level lists its groups without importing them: load each here.
                walk(sub.load() if isinstance(sub, LoadedLater) else sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "keyholder")
def test_help(cli: Cli, path: list[str]) -> None:
    result = cli.ok(*path, "--help")

    assert "Usage: " in result.stdout
    assert result.stderr == ""


def test_contract_commands_exist() -> None:
    """The names DESIGN.md promises (of those built so far)."""
    paths = {" ".join(p) for p in command_paths()}

    assert {
        "serve", "worker", "db upgrade", "db check", "demo", "users create",
        "accounts create", "accounts show", "accounts list",
        "members list", "members add", "members set", "members remove",
        "mail outbox", "audit list", "audit verify", "tickets list", "tickets show",
    } <= paths  # fmt: skip


class TestCheck:
    def test_migrated_database_passes(self, cli: Cli) -> None:
        result = cli.ok("db", "check")

        assert result.stdout == (
            f"database at revision {migrate.head_revision(cli.runtime.engine)}; "
            "schema matches the models\n"
        )

    def test_unmigrated_database_fails(self, empty_runtime: Runtime) -> None:
        result = Cli(empty_runtime)("db", "check")

        assert_error(result, "database is at revision none", "run `keyholder db upgrade`")


class TestUpgrade:
    def test_migrates_an_empty_database_so_check_passes(self, empty_runtime: Runtime) -> None:
        cli = Cli(empty_runtime)
        head = migrate.head_revision(empty_runtime.engine)

        assert cli.ok("db", "upgrade").stdout == f"database at revision {head}\n"
        cli.ok("db", "check")
        assert cli.json("accounts", "list") == []

    def test_is_a_no_op_on_a_current_database(self, cli: Cli) -> None:
        cli.ok("accounts", "create", "acme-corp", "--contract", "ENT-2024-001234")

        cli.ok("db", "upgrade")

        assert [a["name"] for a in cli.json("accounts", "list")] == ["acme-corp"]


class TestDatabaseErrors:
    def test_unmigrated_database_says_to_upgrade(self, empty_runtime: Runtime) -> None:
        result = Cli(empty_runtime)("accounts", "list")

        assert_error(result, "the database schema is not current", "run `keyholder db upgrade`")

    def test_unreachable_server_is_one_line(self, tmp_path: Path) -> None:
        unreachable = bootstrap(settings_for("postgresql+psycopg://postgres@127.0.0.1:1/nowhere"))
        try:
            result = Cli(unreachable)("members", "list", "--account", "acme-corp")
        finally:
            unreachable.close()

        assert_error(result, "error: database: ", "127.0.0.1")


def contacts(runtime: Runtime) -> list[AccountContact]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(AccountContact)).all())


def settings_for(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def empty_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A Runtime on a new, empty SQLite file (whatever --db says)."""
    runtime = bootstrap(settings_for(f"sqlite:///{tmp_path / 'empty.db'}"))
    yield runtime
    runtime.close()


class TestDemo:
    def test_loads_demo_data(self, cli: Cli, dev_cli: Cli) -> None:
        result = dev_cli.ok("demo")

        assert "created account acme-corp\n" in result.stdout
        assert "created staff admin: admin@keyholder.example\n" in result.stdout
        assert "every demo user's password is 'keyholder-demo'" in result.stdout
        assert [a["name"] for a in cli.json("accounts", "list")] == [
            "acme-corp",
            "globex",
            "initech",
        ]
        assert cli.json("members", "list", "--account", "initech")[0]["user"]["email"] == (
            "peter@initech.example"
        )
        tickets = cli.json("tickets", "list", "--account", "initech")
        assert [t["requester"]["email"] for t in tickets] == ["peter@initech.example"]
        # No access request: its unexplained confirmation email only confused newcomers.
        assert cli.json("access-requests", "list") == []

    def test_reports_every_step_for_its_progress_bar(self, dev_cli: Cli) -> None:
        steps: list[None] = []

        created = load_demo_data(dev_cli.runtime, step=lambda: steps.append(None))

        assert len(steps) == demo_steps()
        assert len(created) > demo_steps()  # the desk's tickets and replies come without a step

    def test_is_idempotent(self, cli: Cli, dev_cli: Cli) -> None:
        dev_cli.ok("demo")
        accounts = cli.json("accounts", "list")
        events = cli.json("audit", "list", "--limit", "10000")

        again = dev_cli.ok("demo")

        assert [line for line in again.stdout.splitlines() if line.startswith("created")] == []
        assert "demo data ready (0 new items)" in again.stdout
        assert cli.json("accounts", "list") == accounts
        assert cli.json("audit", "list", "--limit", "10000") == events

    @pytest.mark.parametrize("if_empty", [[], ["--if-empty"]])
    def test_refused_outside_development_and_writes_nothing(
        self, cli: Cli, runtime: Runtime, if_empty: list[str]
    ) -> None:
        events = cli.json("audit", "list", "--limit", "10000")

        result = cli("demo", *if_empty)  # KEYHOLDER_ENV=test

        assert_error(result, "development only", "'test'")
        assert cli.json("accounts", "list") == []
        assert cli.json("audit", "list", "--limit", "10000") == events
        with runtime.uow(read_only=True) as uow:
            assert uow.session.scalars(select(User)).all() == []

    def test_backdates_only_the_contacts_it_created_s22(self, cli: Cli, dev_cli: Cli) -> None:
        create_account(
            cli.runtime.uow(),
            name="umbrella",
            display_name="Umbrella",
            contract_number="ENT-2024-000042",
            domains=["umbrella.example"],
            contacts=[
                ContactInput(
                    ContactKind.EXECUTIVE, "Albert Wesker", "CEO", "wesker@umbrella.example"
                )
            ],
            actor=OPERATOR,
        )
        added = {c.email: c.added_at for c in contacts(cli.runtime)}

        dev_cli.ok("demo")

        after = {c.email: c.added_at for c in contacts(cli.runtime)}
        assert after["wesker@umbrella.example"] == added["wesker@umbrella.example"]
        now = cli.runtime.clock.now()
        demo = [at for email, at in after.items() if email != "wesker@umbrella.example"]
        assert demo
        assert all(at.replace(tzinfo=now.tzinfo) < now - timedelta(days=300) for at in demo)

    def test_if_empty_leaves_a_used_database_alone(self, cli: Cli, dev_cli: Cli) -> None:
        cli.ok("accounts", "create", "acme-corp", "--contract", "ENT-2024-000001")

        result = dev_cli.ok("demo", "--if-empty")

        assert result.stdout == "the database already holds accounts: demo data not loaded\n"
        assert [a["name"] for a in cli.json("accounts", "list")] == ["acme-corp"]

    def test_if_empty_loads_into_an_empty_database(self, cli: Cli, dev_cli: Cli) -> None:
        dev_cli.ok("demo", "--if-empty")

        assert len(cli.json("accounts", "list")) == 3
