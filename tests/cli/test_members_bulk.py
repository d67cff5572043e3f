"""keyholder members import FILE.csv --account NAME [--dry-run] [--json] and members export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from keyholder.accounts import members_csv
from keyholder.accounts.models import EnterpriseAccount
from keyholder.cli import progress
from tests.cli import Cli, assert_error
from tests.factories import Factories


@pytest.fixture
def acme(factories: Factories) -> EnterpriseAccount:
    account = factories.account("acme-corp", contract_number="ENT-2024-001234")
    factories.admin_of(account, "alice@acme.example")
    factories.member(account, factories.user("bob@acme.example"), "view,create")
    return account


def members_of(cli: Cli) -> dict[str, list[str]]:
    return {
        m["user"]["email"]: [p["name"] for p in m["permissions"]]
        for m in cli.json("members", "list", "--account", "acme-corp")
    }


def write(tmp_path: Path, text: str, name: str = "members.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


CHANGES = (
    "email,permissions,action\n"
    "bob@acme.example,view;billing,\n"
    "new@acme.example,create,\n"
    "alice@acme.example,view manage,\n"
)


class TestImport:
    def test_applies_the_file_and_prints_each_change(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        result = cli.ok("members", "import", write(tmp_path, CHANGES), "--account", "acme-corp")

        assert result.stdout.splitlines() == [
            "line 2: changed bob@acme.example (view,create -> view,billing)",
            "line 3: invited new@acme.example (view,create)",
            "acme-corp: 0 added, 1 invited, 1 changed, 0 removed, 1 unchanged",
        ]
        assert result.stderr == ""
        assert members_of(cli) == {
            "alice@acme.example": ["view", "manage"],
            "bob@acme.example": ["view", "billing"],
        }
        [update] = cli.json("audit", "list", "--action", "member.update", "--limit", "1")
        assert update["target"] == "account:acme-corp/member:bob@acme.example"
        assert update["actor"].startswith("cli:")
        assert update["after"] == {"permissions": ["view", "billing"]}
        [invited] = cli.json("audit", "list", "--action", "invitation.create", "--limit", "1")
        assert invited["after"]["email"] == "new@acme.example"
        [mail] = cli.json("mail", "outbox")
        assert (mail["kind"], mail["to"]) == ("invitation", ["new@acme.example"])

    def test_reads_standard_input(self, cli: Cli, acme: EnterpriseAccount) -> None:
        cli.ok("members", "import", "-", "-a", "acme-corp", input=CHANGES)

        assert members_of(cli)["bob@acme.example"] == ["view", "billing"]

    def test_json(self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path) -> None:
        result = cli.ok("members", "import", write(tmp_path, CHANGES), "-a", "acme-corp", "--json")

        printed = json.loads(result.stdout)
        assert printed["account"] == "acme-corp"
        assert printed["dry_run"] is False
        assert printed["counts"] == {
            "added": 0, "invited": 1, "changed": 1, "removed": 0, "unchanged": 1
        }  # fmt: skip
        assert printed["rows"][0] == {
            "line": 2,
            "email": "bob@acme.example",
            "outcome": "changed",
            "before": ["view", "create"],
            "after": ["view", "billing"],
        }

    def test_dry_run_prints_the_plan_and_writes_nothing(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        audit_before = cli.json("audit", "list", "--limit", "1000")

        result = cli.ok("members", "import", write(tmp_path, CHANGES), "-a", "acme-corp",
                        "--dry-run")  # fmt: skip

        assert result.stdout.splitlines() == [
            "line 2: changed bob@acme.example (view,create -> view,billing)",
            "line 3: invited new@acme.example (view,create)",
            "dry run, nothing changed: acme-corp: 0 added, 1 invited, 1 changed, 0 removed, "
            "1 unchanged",
        ]
        assert members_of(cli)["bob@acme.example"] == ["view", "create"]
        assert cli.json("audit", "list", "--limit", "1000") == audit_before
        assert cli.json("mail", "outbox") == []

    def test_errors_are_all_reported_one_per_line_and_nothing_changes(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        audit_before = cli.json("audit", "list", "--limit", "1000")
        file = write(
            tmp_path,
            "email,permissions\n"
            "bob@acme.example,billing\n"  # valid, but the file is refused as a whole
            "not-an-email,view\n"
            "carol@acme.example,owner\n"
            "BOB@acme.example,view\n",
        )

        result = cli("members", "import", file, "-a", "acme-corp")

        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            "line 3, column email: 'not-an-email' is not a valid email address: "
            "An email address must have an @-sign.",
            "line 4, column permissions: unknown permission(s) 'owner'; valid permissions are: "
            "view, create, manage, billing",
            "line 5, column email: bob@acme.example is also on line 2: one row per email",
            f"error: 3 error(s) in {file}: nothing was changed",
        ]
        assert members_of(cli)["bob@acme.example"] == ["view", "create"]
        assert cli.json("audit", "list", "--limit", "1000") == audit_before

    def test_leaving_no_admin_is_refused_at_the_line(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        file = write(tmp_path, "email,permissions,action\nalice@acme.example,,remove\n")

        result = cli("members", "import", file, "-a", "acme-corp")

        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            "line 2, column action: removing alice@acme.example leaves 'acme-corp' without a "
            "member with the manage permission: keep one admin, or give another member manage "
            "in the same file",
            f"error: 1 error(s) in {file}: nothing was changed",
        ]
        assert "alice@acme.example" in members_of(cli)
        assert cli.json("audit", "list", "--action", "member.remove") == []

    def test_continue_on_error_applies_the_valid_rows_and_skips_the_others(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        file = write(
            tmp_path,
            "email,permissions,action\n"
            "bob@acme.example,view;billing,\n"
            "not-an-email,view,\n"  # refused by the parser
            "alice@acme.example,,remove\n"  # refused: the last admin
            "new@acme.example,create,\n",
        )

        result = cli("members", "import", file, "-a", "acme-corp", "--continue-on-error")

        assert result.exit_code == 1
        assert result.stdout.splitlines() == [
            "line 2: changed bob@acme.example (view,create -> view,billing)",
            "line 5: invited new@acme.example (view,create)",
            "acme-corp: 0 added, 1 invited, 1 changed, 0 removed, 0 unchanged",
        ]
        stderr = result.stderr.splitlines()
        assert [line.split(":")[0] for line in stderr] == [
            "line 3, column email",
            "line 4, column action",
            "error",
        ]
        assert stderr[-1] == f"error: 2 error(s) in {file}: those rows were skipped"
        assert members_of(cli) == {
            "alice@acme.example": ["view", "manage"],
            "bob@acme.example": ["view", "billing"],
        }

    def test_continue_on_error_without_errors_exits_0(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        result = cli.ok("members", "import", write(tmp_path, CHANGES), "-a", "acme-corp",
                        "--continue-on-error", "--json")  # fmt: skip

        printed = json.loads(result.stdout)
        assert printed["errors"] == []
        assert printed["counts"]["changed"] == 1

    def test_continue_on_error_json_lists_every_error(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        file = write(tmp_path, "email,permissions,action\nbad,view,\nalice@acme.example,,remove\n")

        result = cli("members", "import", file, "-a", "acme-corp", "--continue-on-error", "--json")

        assert result.exit_code == 1
        assert [(e["line"], e["column"]) for e in json.loads(result.stdout)["errors"]] == [
            (2, "email"),
            (3, "action"),
        ]

    def test_unknown_account(self, cli: Cli, tmp_path: Path) -> None:
        result = cli("members", "import", write(tmp_path, CHANGES), "-a", "nope")

        assert_error(result, "no enterprise account named 'nope'")

    def test_missing_file(self, cli: Cli, tmp_path: Path) -> None:
        result = cli("members", "import", str(tmp_path / "absent.csv"), "-a", "acme-corp")

        assert_error(result, "cannot read", "absent.csv", "No such file or directory")

    def test_a_file_over_the_limit_is_refused_before_parsing(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(members_csv, "MAX_FILE_BYTES", 1024 * 1024)
        path = tmp_path / "big.csv"
        path.write_bytes(b"email,permissions\n" + b"x@acme.example,view\n" * 60_000)

        result = cli("members", "import", str(path), "-a", "acme-corp")

        assert_error(result, "big.csv is larger than 1 MiB: split it")

    def test_no_progress_bar_when_not_on_a_terminal(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        text = "email,permissions\n" + "".join(f"u{i}@acme.example,view\n" for i in range(250))

        result = cli.ok("members", "import", write(tmp_path, text), "-a", "acme-corp")

        assert result.stderr == ""
        assert result.stdout.endswith(
            "acme-corp: 0 added, 250 invited, 0 changed, 0 removed, 0 unchanged\n"
        )


@pytest.mark.parametrize(("flags", "steps"), [((), 3), (("--json",), 0)])
def test_the_progress_bar_is_offered_every_row_but_never_with_json(
    cli: Cli,
    acme: EnterpriseAccount,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: tuple[str, ...],
    steps: int,
) -> None:
    """Whether it shows is ``cli.progress``'s decision (a terminal, a long run): tested there."""
    asked: list[int] = []
    ticks: list[None] = []

    @contextmanager
    def recording_bar(description: str, total: int) -> Iterator[Callable[[], None]]:
        asked.append(total)
        yield lambda: ticks.append(None)

    monkeypatch.setattr(progress, "progress_bar", recording_bar)
    text = "email,permissions\n" + "".join(f"u{i}@acme.example,view\n" for i in range(3))

    cli.ok("members", "import", write(tmp_path, text), "-a", "acme-corp", *flags)

    assert asked == [steps]
    assert len(ticks) == 3


class TestExport:
    def test_to_standard_output(self, cli: Cli, acme: EnterpriseAccount) -> None:
        result = cli.ok("members", "export", "--account", "acme-corp")

        assert result.stdout_bytes == (  # .stdout would turn CRLF into LF
            b"email,permissions\r\n"
            b"alice@acme.example,view;manage\r\n"
            b"bob@acme.example,view;create\r\n"
        )

    def test_to_a_file(self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path) -> None:
        path = tmp_path / "out.csv"

        result = cli.ok("members", "export", str(path), "-a", "acme-corp")

        assert result.stdout == ""
        assert result.stderr == f"exported 2 members of acme-corp to {path}\n"
        assert path.read_bytes().startswith(b"email,permissions\r\nalice@acme.example,")

    def test_round_trip_changes_nothing(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        factories.member(acme, factories.user("=cmd@acme.example"), "view,billing")
        path = tmp_path / "out.csv"
        cli.ok("members", "export", str(path), "-a", "acme-corp")
        audit_before = cli.json("audit", "list", "--limit", "1000")

        result = cli.ok("members", "import", str(path), "-a", "acme-corp")

        assert result.stdout == "acme-corp: 0 added, 0 invited, 0 changed, 0 removed, 3 unchanged\n"
        assert cli.json("audit", "list", "--limit", "1000") == audit_before

    def test_cells_a_spreadsheet_would_run_are_quoted(
        self, cli: Cli, factories: Factories, acme: EnterpriseAccount
    ) -> None:
        """OWASP CSV injection: an address may start with = + or -, a formula in Excel."""
        for email in ("=cmd@acme.example", "+1@acme.example", "-x@acme.example"):
            factories.member(acme, factories.user(email), "view")

        lines = cli.ok("members", "export", "-a", "acme-corp").stdout.splitlines()

        assert lines[1:4] == [
            "'+1@acme.example,view",
            "'-x@acme.example,view",
            "'=cmd@acme.example,view",
        ]

    def test_unknown_account(self, cli: Cli) -> None:
        assert_error(cli("members", "export", "-a", "nope"), "no enterprise account named 'nope'")

    def test_unwritable_destination(
        self, cli: Cli, acme: EnterpriseAccount, tmp_path: Path
    ) -> None:
        result = cli(
            "members", "export", str(tmp_path / "no" / "such" / "dir.csv"), "-a", "acme-corp"
        )

        assert_error(result, "cannot write", "No such file or directory")
