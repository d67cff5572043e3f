"""keyholder letters check FILE [--account NAME] [--json]."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tests.cli import Cli, assert_error
from tests.factories import Factories
from tests.letters import corpus

LETTER = corpus.Letter(
    seed=3, account="acme-corp", display_name="acme-corp", domain="acme.example",
    contract="ENT-2024-001234", email_to_add="jordan.lee@acme.example",
    executive_name="Exec Utive", executive_title="CEO", executive_email="exec@acme.example",
    reason="our only administrator left the company last month.",
    dated=date(2026, 1, 12),  # three days before the tests' clock
)  # fmt: skip


class TestCheck:
    def test_checks_a_letter_against_the_accounts_records(
        self, cli: Cli, factories: Factories, tmp_path: Path
    ) -> None:
        factories.account(
            "acme-corp", contract_number="ENT-2024-001234", domains=["acme.example"],
            executive_email="exec@acme.example",
        )  # fmt: skip
        path = tmp_path / "letter.pdf"
        path.write_bytes(corpus.text_pdf(LETTER))
        annotated = tmp_path / "annotated.png"

        report = json.loads(
            cli.ok(
                "letters", "check", str(path), "--account", "acme-corp",
                "--email-to-add", "jordan.lee@acme.example", "--annotated", str(annotated),
                "--json",
            ).stdout
        )  # fmt: skip

        assert report["schema"] == "keyholder.letter-report/1"
        assert {c["id"]: c["status"] for c in report["checks"]} == {
            "account_name": "pass", "contract_number": "pass", "email_to_add": "pass",
            "executive_on_record": "pass", "executive_email_domain": "pass",
            "executive_title": "pass", "reason": "pass", "date_recent": "pass",
            "signature": "pass",
        }  # fmt: skip
        assert report["today"] == "2026-01-15"
        assert annotated.read_bytes().startswith(b"\x89PNG")

    def test_prints_a_table_without_json(self, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "letter.pdf"
        path.write_bytes(corpus.text_pdf(LETTER))

        result = cli.ok("letters", "check", str(path))

        lines = result.stdout.splitlines()
        assert lines[0].split() == ["CHECK", "STATUS", "EVIDENCE"]
        assert any(
            line.startswith("Contract number matches") and "unknown" in line for line in lines
        )
        assert "not a check of authenticity" in lines[-1]

    def test_unknown_account_is_an_error(self, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "letter.pdf"
        path.write_bytes(corpus.text_pdf(LETTER))

        assert_error(cli("letters", "check", str(path), "--account", "nope"), "nope")

    def test_s32_a_file_that_is_not_a_letter_is_one_line_error(
        self, cli: Cli, tmp_path: Path
    ) -> None:
        path = tmp_path / "letter.pdf"
        path.write_text("<html><script>alert(1)</script></html>")

        assert_error(cli("letters", "check", str(path)), "PDF, PNG or JPEG")

    def test_missing_file_is_one_line_error(self, cli: Cli, tmp_path: Path) -> None:
        assert_error(cli("letters", "check", str(tmp_path / "nope.pdf")), "cannot read")


class TestCheckMany:
    def test_each_letter_is_checked_and_an_unreadable_one_does_not_stop_the_others(
        self, cli: Cli, tmp_path: Path
    ) -> None:
        first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
        first.write_bytes(corpus.text_pdf(LETTER))
        second.write_bytes(corpus.text_pdf(LETTER))
        missing = tmp_path / "missing.pdf"

        result = cli("letters", "check", str(first), str(missing), str(second), "--json")

        assert result.exit_code == 1
        reports = json.loads(result.stdout)
        assert [r["file"] for r in reports] == [str(first), str(missing), str(second)]
        assert reports[0]["report"]["schema"] == "keyholder.letter-report/1"
        assert "cannot read" in reports[1]["error"]
        assert reports[2]["report"]["checks"] == reports[0]["report"]["checks"]
        assert "1 of 3 letters could not be checked" in result.stderr

    def test_tables_are_headed_by_their_file(self, cli: Cli, tmp_path: Path) -> None:
        paths = [tmp_path / "a.pdf", tmp_path / "b.pdf"]
        for path in paths:
            path.write_bytes(corpus.text_pdf(LETTER))

        out = cli.ok("letters", "check", *map(str, paths)).stdout

        assert [line for line in out.splitlines() if line.startswith("== ")] == [
            f"== {paths[0]}",
            f"== {paths[1]}",
        ]

    def test_annotated_takes_one_letter(self, cli: Cli, tmp_path: Path) -> None:
        path = tmp_path / "a.pdf"
        path.write_bytes(corpus.text_pdf(LETTER))
        refused = cli("letters", "check", str(path), str(path), "--annotated", "x.png")
        assert_error(refused, "--annotated takes one letter")
