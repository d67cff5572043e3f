"""keyholder users create|set-role|reset-link and keyholder tokens create."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from keyholder.bootstrap import Runtime
from keyholder.db.base import load_all_models
from keyholder.errors import Gone, NotAuthenticated
from keyholder.identity.models import StaffRole, UserToken
from keyholder.identity.reset import reset_password
from keyholder.identity.service import authenticate_api_token, find_user, log_in
from keyholder.identity.tokens import hash_token
from tests.cli import Cli, assert_error
from tests.factories import Factories

PASSWORD = "a long enough pass phrase"


def staff_role(runtime: Runtime, email: str) -> StaffRole | None:
    with runtime.uow(read_only=True) as uow:
        user = find_user(uow, email)
        assert user is not None
        return user.staff_role


class TestCreate:
    def test_password_from_stdin_lets_the_user_log_in(self, cli: Cli, runtime: Runtime) -> None:
        result = cli.ok(
            "users", "create", "Sam@Keyholder.example", "--name", "Sam Agent", "--staff", "agent",
            "--password-stdin", input=f"{PASSWORD}\nthe second line is not read\n",
        )  # fmt: skip

        assert result.stdout == "created user sam@keyholder.example (agent)\n"
        signed_in = log_in(
            runtime.uow(),
            "sam@keyholder.example",
            PASSWORD,
            client_address=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        assert signed_in.user.name == "Sam Agent"
        assert signed_in.actor.staff_role == StaffRole.AGENT
        assert not signed_in.actor.mfa_enabled  # S18: must enrol before acting as staff

    def test_staff_admin_created_here_is_an_admin_after_log_in(
        self, cli: Cli, runtime: Runtime
    ) -> None:
        cli.ok("users", "create", "root@keyholder.example", "--staff", "admin", "--password-stdin",
               input=f"{PASSWORD}\n")  # fmt: skip

        signed_in = log_in(
            runtime.uow(),
            "root@keyholder.example",
            PASSWORD,
            client_address=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )

        assert signed_in.actor.staff_role is StaffRole.ADMIN

    def test_json(self, cli: Cli) -> None:
        created = cli.json("users", "create", "dana@acme.example", "--name", "Dana")

        assert created["email"] == "dana@acme.example"
        assert created["name"] == "Dana"
        assert created["staff_role"] is None
        assert re.fullmatch(r"[0-9a-f-]{36}", created["id"])

    def test_without_password_stdin_nobody_can_log_in(self, cli: Cli, runtime: Runtime) -> None:
        result = cli.ok("users", "create", "dana@acme.example", input=f"{PASSWORD}\n")

        assert result.stdout == "created user dana@acme.example\n"
        with pytest.raises(NotAuthenticated):
            log_in(
                runtime.uow(),
                "dana@acme.example",
                PASSWORD,
                client_address=None,
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )

    def test_unknown_role_names_the_valid_roles(self, cli: Cli) -> None:
        result = cli("users", "create", "sam@keyholder.example", "--staff", "superuser")

        assert_error(result, "'superuser'", "agent, reviewer, admin, none")
        assert cli("users", "set-role", "sam@keyholder.example", "agent").exit_code == 1  # no user

    def test_short_password_is_refused(self, cli: Cli) -> None:
        result = cli(
            "users", "create", "sam@keyholder.example", "--password-stdin", input="short\n"
        )

        assert_error(result, "at least 8 characters")

    def test_duplicate_email_is_refused(self, cli: Cli, factories: Factories) -> None:
        factories.user("sam@keyholder.example", password=None)

        result = cli("users", "create", "SAM@keyholder.example")

        assert_error(result, "a user with email sam@keyholder.example already exists")


class TestSetRole:
    def test_grants_changes_and_removes_a_role(
        self, cli: Cli, factories: Factories, runtime: Runtime
    ) -> None:
        factories.user("sam@keyholder.example", password=None)

        granted = cli.ok("users", "set-role", "sam@keyholder.example", "reviewer")
        assert granted.stdout == "sam@keyholder.example: staff role reviewer\n"
        assert staff_role(runtime, "sam@keyholder.example") == StaffRole.REVIEWER

        cli.ok("users", "set-role", "sam@keyholder.example", "ADMIN")
        assert staff_role(runtime, "sam@keyholder.example") == StaffRole.ADMIN

        removed = cli.ok("users", "set-role", "sam@keyholder.example", "none")
        assert removed.stdout == "sam@keyholder.example: staff role none\n"
        assert staff_role(runtime, "sam@keyholder.example") is None

    def test_is_audited(self, cli: Cli, factories: Factories) -> None:
        factories.user("sam@keyholder.example", password=None)

        cli.ok("users", "set-role", "sam@keyholder.example", "agent")

        [event] = cli.json("audit", "list", "--action", "user.staff_role")
        assert event["target"] == "user:sam@keyholder.example"
        assert (event["before"], event["after"]) == ({"staff_role": None}, {"staff_role": "agent"})

    def test_unknown_role(self, cli: Cli, factories: Factories, runtime: Runtime) -> None:
        factories.user("sam@keyholder.example", password=None, staff_role=StaffRole.AGENT)

        result = cli("users", "set-role", "sam@keyholder.example", "root")

        assert_error(result, "unknown staff role 'root'")
        assert staff_role(runtime, "sam@keyholder.example") == StaffRole.AGENT

    def test_unknown_user(self, cli: Cli) -> None:
        result = cli("users", "set-role", "ghost@keyholder.example", "agent")

        assert_error(result, "no user with email ghost@keyholder.example")


def stored_text(engine: Engine) -> Iterator[tuple[str, str]]:
    """Every value in every table, as (table, text)."""
    with engine.connect() as connection:
        for table in load_all_models().sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        yield table.name, value.decode("latin-1")
                    elif value is not None:
                        yield table.name, str(value)


class TestTokens:
    def test_token_is_printed_once_and_authenticates(
        self, cli: Cli, factories: Factories, runtime: Runtime
    ) -> None:
        user = factories.user("dana@acme.example", password=None)

        result = cli.ok("tokens", "create", "dana@acme.example", "--name", "ci")

        [token] = result.stdout.splitlines()
        assert result.stderr == "Store this token now: it cannot be shown again.\n"
        actor = authenticate_api_token(runtime.uow(), token)
        assert actor is not None
        assert (actor.user_id, actor.email) == (user.id, "dana@acme.example")

    def test_s6_only_the_hash_is_stored(
        self, cli: Cli, factories: Factories, runtime: Runtime
    ) -> None:
        """SECURITY.md S6: ≥ 128 random bits; the plaintext is in no table, only its hash."""
        factories.user("dana@acme.example", password=None)

        token = cli.ok("tokens", "create", "dana@acme.example").stdout.strip()

        secret_part = token.partition("_")[2]
        assert len(secret_part) >= 22  # base64url: 22 characters carry 132 bits
        stored = list(stored_text(runtime.engine))
        assert ("api_tokens", hash_token(token)) in stored
        leaks = [table for table, text in stored if secret_part in text]
        assert leaks == []

    def test_each_token_is_new(self, cli: Cli, factories: Factories) -> None:
        factories.user("dana@acme.example", password=None)

        first = cli.ok("tokens", "create", "dana@acme.example").stdout
        second = cli.ok("tokens", "create", "dana@acme.example").stdout

        assert first != second

    def test_json(self, cli: Cli, factories: Factories, runtime: Runtime) -> None:
        factories.user("dana@acme.example", password=None)

        issued = cli.json("tokens", "create", "dana@acme.example", "--name", "deploy")

        assert issued["name"] == "deploy"
        assert authenticate_api_token(runtime.uow(), issued["token"]) is not None

    def test_unknown_user(self, cli: Cli) -> None:
        result = cli("tokens", "create", "ghost@acme.example")

        assert_error(result, "no user with email ghost@acme.example")


RESET_LINK = re.compile(r"https://keyholder\.test/reset/(khr_[A-Za-z0-9_-]{43})")


class TestResetLink:
    def test_prints_the_link_once_and_it_resets(
        self, cli: Cli, factories: Factories, runtime: Runtime
    ) -> None:
        factories.user("dana@acme.example", password=PASSWORD)

        result = cli.ok("users", "reset-link", "Dana@acme.example")

        [line] = result.stdout.splitlines()
        match = RESET_LINK.fullmatch(line)
        assert match, line
        assert result.stderr.startswith("Give this link to dana@acme.example only;")
        assert "2026-01-15 13:00 UTC" in result.stderr  # the test clock + 60 minutes
        reset_password(
            runtime.uow(), match.group(1), "dana's new pass phrase", hasher=runtime.password_hasher
        )
        log_in(
            runtime.uow(),
            "dana@acme.example",
            "dana's new pass phrase",
            client_address=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )

    def test_s35_audited_as_the_operator_without_the_token(
        self, cli: Cli, factories: Factories, runtime: Runtime
    ) -> None:
        """S35: `password_reset.request` by cli:<user>; S6: the token is in no table."""
        factories.user("dana@acme.example", password=PASSWORD)

        link = cli.ok("users", "reset-link", "dana@acme.example").stdout.strip()

        [event] = cli.json("audit", "list", "--action", "password_reset.request")
        assert event["actor"].startswith("cli:")
        assert event["target"] == "user:dana@acme.example"
        assert event["after"]["via"] == "operator"
        secret = link.rpartition("/")[2].removeprefix("khr_")  # the whole random part
        assert [table for table, text in stored_text(runtime.engine) if secret in text] == []

    def test_s9_a_new_link_kills_the_older_one(self, cli: Cli, factories: Factories) -> None:
        """S9: issuing a link revokes the user's unused older links."""
        factories.user("dana@acme.example", password=PASSWORD)
        older = RESET_LINK.fullmatch(
            cli.ok("users", "reset-link", "dana@acme.example").stdout.strip()
        )
        cli.ok("users", "reset-link", "dana@acme.example")

        assert older
        with pytest.raises(Gone):
            reset_password(
                cli.runtime.uow(),
                older.group(1),
                "dana's new pass phrase",
                hasher=cli.runtime.password_hasher,
            )

    @pytest.mark.parametrize("role", list(StaffRole))
    def test_s31_refuses_staff(
        self, cli: Cli, factories: Factories, runtime: Runtime, role: StaffRole
    ) -> None:
        """S31: staff accounts are never recovered through a customer reset link."""
        factories.user("sam@keyholder.example", password=PASSWORD, staff_role=role)

        result = cli("users", "reset-link", "sam@keyholder.example")

        assert_error(result, "sam@keyholder.example is a staff account")
        with runtime.uow(read_only=True) as uow:
            assert uow.session.scalar(select(func.count()).select_from(UserToken)) == 0

    def test_unknown_user(self, cli: Cli) -> None:
        result = cli("users", "reset-link", "ghost@acme.example")

        assert_error(result, "no user with email ghost@acme.example")

    def test_json(self, cli: Cli, factories: Factories) -> None:
        factories.user("dana@acme.example", password=PASSWORD)

        issued = cli.json("users", "reset-link", "dana@acme.example")

        assert RESET_LINK.fullmatch(issued["link"])
        assert issued["expires_at"] == "2026-01-15T13:00:00+00:00"
