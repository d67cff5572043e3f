"""keyholder audit list|verify (the deeper chain tests live in tests/audit)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from keyholder.audit.keys import load_signing_key, public_key_text
from keyholder.bootstrap import Runtime
from keyholder.config import Settings
from tests.cli import Cli, assert_error
from tests.conftest import TEST_SECRET


def make_history(cli: Cli) -> None:
    cli.ok("accounts", "create", "acme-corp", "--contract", "ENT-2024-001234")
    cli.ok("users", "create", "alice@acme.example")
    cli.ok("members", "add", "alice@acme.example", "-a", "acme-corp", "-p", "manage")


class TestList:
    def test_json_newest_first(self, cli: Cli) -> None:
        make_history(cli)

        events = cli.json("audit", "list")

        assert [(e["seq"], e["action"]) for e in events] == [
            (3, "member.add"),
            (2, "user.create"),
            (1, "account.create"),
        ]
        newest = events[0]
        assert newest["target"] == "account:acme-corp/member:alice@acme.example"
        assert newest["before"] is None
        assert newest["after"] == {"permissions": ["view", "manage"]}
        assert newest["at"].startswith("2026-01-15T12:00:00")
        assert newest["actor"].startswith("cli:")
        assert len(newest["hash"]) == 64
        assert newest["key_id"] == "dev"  # the chain key it was chained with (S36)

    def test_filters_and_limit(self, cli: Cli) -> None:
        make_history(cli)

        by_target = cli.json("audit", "list", "--target", "account:acme-corp")
        by_action = cli.json("audit", "list", "--action", "user.create")
        limited = cli.json("audit", "list", "--limit", "2")

        assert [e["action"] for e in by_target] == ["account.create"]
        assert [e["target"] for e in by_action] == ["user:alice@acme.example"]
        assert [e["seq"] for e in limited] == [3, 2]

    def test_table(self, cli: Cli) -> None:
        make_history(cli)

        lines = cli.ok("audit", "list").stdout.splitlines()

        assert lines[0].split() == ["SEQ", "AT", "ACTOR", "ACTION", "TARGET", "CHANGE"]
        seq, at, actor, action, target = lines[1].split()[:5]
        assert (seq, at, action) == ("3", "2026-01-15T12:00:00", "member.add")
        assert actor.startswith("cli:")
        assert target == "account:acme-corp/member:alice@acme.example"
        assert lines[1].endswith("{'permissions': ['view', 'manage']}")
        assert len(lines) == 4

    def test_empty_log(self, cli: Cli) -> None:
        assert cli.json("audit", "list") == []


class TestVerify:
    def test_intact_chain_exits_0(self, cli: Cli) -> None:
        make_history(cli)

        result = cli.ok("audit", "verify")

        assert result.stdout == "audit chain intact: 3 events\n"

    def test_s36_without_checkpoints_it_warns_rather_than_passing_silently(self, cli: Cli) -> None:
        make_history(cli)

        result = cli.ok("audit", "verify")

        assert result.stderr == (
            "warning: no signed checkpoint file configured: deleting the newest events "
            "or recomputing the chain would go unnoticed\n"
        )

    def test_edited_row_exits_1_naming_the_first_bad_event(
        self, cli: Cli, runtime: Runtime
    ) -> None:
        make_history(cli)
        with runtime.engine.begin() as connection:
            connection.execute(text("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 2"))

        result = cli("audit", "verify")

        assert_error(
            result,
            "audit chain broken at event #2: content does not match its hash",
            "(1 events before it are intact)",
        )


@pytest.fixture
def anchored_cli(derive_runtime: Callable[..., Runtime], tmp_path: Path) -> Cli:
    """The CLI of a deployment that signs checkpoints to tmp_path/checkpoints.jsonl."""
    return Cli(derive_runtime(audit_checkpoint_file=tmp_path / "checkpoints.jsonl"))


@pytest.fixture
def verify_only_cli(derive_runtime: Callable[..., Runtime]) -> Cli:
    """The CLI of a host that has the chain keys but no signing key."""
    return Cli(derive_runtime(audit_signing_key=None))


class TestVerifyWithCheckpoints:
    def test_s36_intact_and_anchored(self, anchored_cli: Cli) -> None:
        make_history(anchored_cli)

        result = anchored_cli.ok("audit", "verify")

        assert result.stdout == (
            "audit chain intact: 3 events; anchored by the signed checkpoint of event #3 "
            "(2026-01-15T12:00:00+00:00)\n"
        )
        assert result.stderr == ""

    def test_s36_deleted_newest_events_exit_1_naming_the_missing_tail(
        self, anchored_cli: Cli, runtime: Runtime
    ) -> None:
        make_history(anchored_cli)
        with runtime.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_events WHERE seq = 3"))

        result = anchored_cli("audit", "verify")

        assert_error(
            result,
            "error: events after #2 were deleted: the signed checkpoint of "
            "2026-01-15T12:00:00+00:00 says the log reached event #3 (hash ",
        )

    def test_s36_on_another_machine_with_only_the_public_key(
        self, anchored_cli: Cli, verify_only_cli: Cli, tmp_path: Path
    ) -> None:
        make_history(anchored_cli)
        public = anchored_cli.ok("audit", "public-key").stdout.strip()
        copied = tmp_path / "copied-checkpoints.jsonl"
        copied.write_bytes((tmp_path / "checkpoints.jsonl").read_bytes())
        # The verifying host has the chain keys, no signing key, its own checkpoint copy.
        ok = verify_only_cli.ok(
            "audit", "verify", "--checkpoints", str(copied), "--public-key", public
        )
        wrong = verify_only_cli(
            "audit", "verify", "--checkpoints", str(copied), "--public-key", "A" * 43 + "="
        )
        unsigned = verify_only_cli("audit", "verify", "--checkpoints", str(copied))

        assert "anchored by the signed checkpoint of event #3" in ok.stdout
        assert_error(wrong, "the checkpoint of event #1 is signed by key", "not trusted")
        assert_error(unsigned, "not trusted (KEYHOLDER_AUDIT_PUBLIC_KEYS or --public-key)")

    def test_s36_a_verify_only_host_refuses_to_run_the_worker(self, verify_only_cli: Cli) -> None:
        result = verify_only_cli("worker", "--once")

        assert_error(result, "KEYHOLDER_AUDIT_SIGNING_KEY is not set", exit_code=2)

    def test_s36_newer_events_than_the_newest_checkpoint_are_counted(
        self, derive_runtime: Callable[..., Runtime], tmp_path: Path
    ) -> None:
        checkpoints = tmp_path / "checkpoints.jsonl"
        cli = Cli(derive_runtime(audit_checkpoint_file=checkpoints, audit_checkpoint_every=100))
        cli.ok("accounts", "create", "acme-corp", "--contract", "ENT-2024-001234")
        missing = cli.ok("audit", "verify")
        cli.ok("worker", "--once")  # the background job anchors the head
        cli.ok("users", "create", "alice@acme.example")

        result = cli.ok("audit", "verify")

        assert missing.stderr.startswith(
            f"warning: no signed checkpoint in {checkpoints} (no such file yet): "
        )
        assert result.stdout.endswith(
            "anchored by the signed checkpoint of event #1 (2026-01-15T12:00:00+00:00), "
            "1 newer events not anchored yet\n"
        )

    def test_a_missing_checkpoint_file_is_an_error(self, cli: Cli, tmp_path: Path) -> None:
        result = cli("audit", "verify", "--checkpoints", str(tmp_path / "nope.jsonl"))

        assert_error(result, f"no checkpoint file at {tmp_path / 'nope.jsonl'}")


class TestKeygen:
    def test_s36_prints_settings_production_accepts(
        self, cli: Cli, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        lines = cli.ok("audit", "keygen", "--key-id", "2026-12").stdout.splitlines()

        for line in lines[:-1]:  # as a shell or an env file would read them
            name, value = line.split("=", 1)
            monkeypatch.setenv(name, value.strip("'"))
        monkeypatch.setenv("KEYHOLDER_TOTP_KEYS", json.dumps([Fernet.generate_key().decode()]))
        settings = Settings(_env_file=None, env="production", secret_key=TEST_SECRET)  # type: ignore[call-arg]
        assert settings.audit_key_id == "2026-12"
        assert settings.audit_signing_key is not None
        public = public_key_text(
            load_signing_key(settings.audit_signing_key.get_secret_value()).public_key()
        )
        assert lines[-1] == f"# public key, for verifying elsewhere (--public-key): {public}"


def test_s36_production_without_audit_keys_exits_2_before_starting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
    env |= {
        "KEYHOLDER_ENV": "production",
        "KEYHOLDER_SECRET_KEY": TEST_SECRET,
        "KEYHOLDER_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }

    done = subprocess.run(
        [sys.executable, "-m", "keyholder", "audit", "verify"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: configuration: KEYHOLDER_AUDIT_KEYS must be set unless KEYHOLDER_ENV is "
        "development or test (`keyholder audit keygen` makes it)"
    ]
