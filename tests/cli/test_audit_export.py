"""keyholder audit export | verify-export: resuming a stream and checking it (issue 19)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from keyholder.bootstrap import Runtime
from tests.audit.conftest import record
from tests.cli import Cli, assert_error


def export(cli: Cli, path: Path, *args: str) -> list[dict]:
    result = cli.ok("audit", "export", "--output", str(path), *args)
    assert result.stdout == ""
    assert f"to {path}" in result.stderr
    return [json.loads(line) for line in path.read_text().splitlines()]


def rewrite(path: Path, events: list[dict]) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


class TestExport:
    def test_jsonl_to_stdout_in_pages(self, cli: Cli, runtime: Runtime) -> None:
        record(runtime, 5)

        result = cli.ok("audit", "export", "--limit", "2")

        events = [json.loads(line) for line in result.stdout.splitlines()]
        assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
        assert {"prev_hash", "hash", "key_id", "data", "at"} <= events[0].keys()
        assert "exported 5 events after #0; last seq 5" in result.stderr

    def test_a_resumed_export_continues_with_no_gap_and_verifies(
        self, cli: Cli, runtime: Runtime, tmp_path: Path
    ) -> None:
        first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
        record(runtime, 3)
        export(cli, first)
        record(runtime, 4, first=4)

        resumed = export(cli, second, "--after", "3", "--limit", "3")

        assert [e["seq"] for e in resumed] == [4, 5, 6, 7]
        both = cli.ok("audit", "verify-export", str(first), str(second))
        assert "export intact: 7 events, #1 to #7" in both.stdout
        last_hash = json.loads(first.read_text().splitlines()[-1])["hash"]
        alone = cli.ok("audit", "verify-export", str(second), "--after-hash", last_hash)
        assert "export intact: 4 events, #4 to #7" in alone.stdout
        assert alone.stderr == ""  # the chain keys are configured: hashes recomputed

    def test_an_overlapping_export_is_recognised(
        self, cli: Cli, runtime: Runtime, tmp_path: Path
    ) -> None:
        first, again = tmp_path / "first.jsonl", tmp_path / "again.jsonl"
        record(runtime, 3)
        export(cli, first)
        export(cli, again, "--after", "1")  # a consumer that lost its last acknowledgement

        result = cli.ok("audit", "verify-export", str(first), str(again))

        assert "export intact: 3 events" in result.stdout
        assert "2 received again, recognised and skipped" in result.stdout

    def test_a_file_is_replaced_whole_or_not_at_all(
        self, cli: Cli, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "audit.jsonl"
        path.write_text("previous\n")
        record(runtime, 3)
        from keyholder.cli import audit_export  # noqa: PLC0415

        real, calls = audit_export.events_after, []

        def failing_after_one_page(*args: object, **kwargs: object):
            calls.append(1)
            if len(calls) > 1:
                raise OSError("disk gone")
            return real(*args, **kwargs)

        monkeypatch.setattr(audit_export, "events_after", failing_after_one_page)
        with pytest.raises(OSError, match="disk gone"):
            cli("audit", "export", "--output", str(path), "--limit", "2")

        assert path.read_text() == "previous\n"
        assert [p.name for p in tmp_path.iterdir()] == ["audit.jsonl"]  # no temporary left

    def test_only_jsonl(self, cli: Cli) -> None:
        assert_error(cli("audit", "export", "--format", "csv"), "--format must be jsonl")

    def test_output_directory_must_exist(self, cli: Cli, tmp_path: Path) -> None:
        missing = tmp_path / "nowhere" / "audit.jsonl"
        assert_error(cli("audit", "export", "--output", str(missing)), "no directory")


class TestVerifyExport:
    @pytest.fixture
    def exported(self, cli: Cli, runtime: Runtime, tmp_path: Path) -> Path:
        record(runtime, 4)
        path = tmp_path / "audit.jsonl"
        export(cli, path)
        return path

    def test_an_edited_field_is_named_by_seq(self, cli: Cli, exported: Path) -> None:
        events = [json.loads(line) for line in exported.read_text().splitlines()]
        events[2]["actor"] = "someone-else"
        rewrite(exported, events)

        error = assert_error(cli("audit", "verify-export", str(exported)))

        assert "event #3 (audit.jsonl line 3): content does not match its hash" in error

    def test_a_dropped_line_is_a_gap(self, cli: Cli, exported: Path) -> None:
        events = [json.loads(line) for line in exported.read_text().splitlines()]
        rewrite(exported, events[:1] + events[2:])

        error = assert_error(cli("audit", "verify-export", str(exported)))

        assert "expected event #2; a gap" in error

    def test_checked_against_the_signed_checkpoints(
        self, derive_runtime: Callable[..., Runtime], tmp_path: Path
    ) -> None:
        checkpoints = tmp_path / "checkpoints.jsonl"
        anchored = Cli(derive_runtime(audit_checkpoint_file=checkpoints))
        record(anchored.runtime, 2)
        path = tmp_path / "audit.jsonl"
        events = export(anchored, path)

        result = anchored.ok("audit", "verify-export", str(path), "--checkpoints", str(checkpoints))

        assert "anchored by the signed checkpoint of event #2" in result.stdout
        events[1]["hash"] = "a" * 64  # the newest event rewritten: no later link breaks
        rewrite(path, events)
        keyless = Cli(derive_runtime(audit_keys={}))  # so only the checkpoint can tell
        error = assert_error(
            keyless("audit", "verify-export", str(path), "--checkpoints", str(checkpoints))
        )
        assert "event #2 (audit.jsonl line 2): its hash differs from the signed checkpoint" in error

    def test_without_the_chain_key_links_only_with_a_warning(
        self, derive_runtime: Callable[..., Runtime], exported: Path
    ) -> None:
        consumer = Cli(derive_runtime(audit_keys={}))

        result = consumer.ok("audit", "verify-export", str(exported))

        assert "export intact: 4 events" in result.stdout
        assert "hashes not recomputed" in result.stderr

    def test_missing_file(self, cli: Cli, tmp_path: Path) -> None:
        assert_error(cli("audit", "verify-export", str(tmp_path / "nope")), "no file at")

    def test_after_hash_is_a_hash(self, cli: Cli, exported: Path) -> None:
        result = cli("audit", "verify-export", str(exported), "--after-hash", "xyz")
        assert_error(result, "--after-hash must be")
