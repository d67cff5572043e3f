"""Reading the log after a seq, and checking what a consumer received (issue 19)."""

from __future__ import annotations

import json

import pytest

from keyholder.audit.chain import GENESIS_HASH
from keyholder.audit.export import event_record, events_after
from keyholder.audit.received import verify_received
from keyholder.audit.settings import chain_keyring
from keyholder.bootstrap import Runtime
from tests.audit.conftest import record


def exported(runtime: Runtime, after: int = 0, limit: int = 1000) -> list[str]:
    with runtime.uow(read_only=True) as uow:
        page = events_after(uow, after, limit=limit)
        return [json.dumps(event_record(e)) for e in page.events]


def received(lines: list[str], **options: object):
    keyring = options.pop("keyring", None)
    return verify_received(
        ((f"line {n}", line) for n, line in enumerate(lines, 1)), keyring=keyring, **options
    )


class TestEventsAfter:
    def test_pages_in_seq_order_with_a_cursor(self, runtime: Runtime) -> None:
        record(runtime, 5)
        with runtime.uow(read_only=True) as uow:
            first = events_after(uow, 0, limit=2)
            second = events_after(uow, first.next_after, limit=2)
            third = events_after(uow, second.next_after, limit=2)
            empty = events_after(uow, third.next_after, limit=2)

        assert [e.seq for e in first.events] == [1, 2]
        assert (first.next_after, first.full) == (2, True)
        assert [e.seq for e in second.events] == [3, 4]
        assert [e.seq for e in third.events] == [5]
        assert (third.next_after, third.full) == (5, False)
        assert (empty.events, empty.next_after) == ([], 5)

    @pytest.mark.parametrize("limit", [0, 1001])
    def test_page_size_is_bounded(self, runtime: Runtime, limit: int) -> None:
        with runtime.uow(read_only=True) as uow, pytest.raises(ValueError, match="limit"):
            events_after(uow, 0, limit=limit)

    def test_a_record_holds_what_the_hash_covers(self, runtime: Runtime) -> None:
        record(runtime, 1)
        (line,) = exported(runtime)
        event = json.loads(line)
        assert event["prev_hash"] == GENESIS_HASH
        assert event["key_id"] == "dev"
        assert event["data"] == {"before": None, "after": {"n": 1}}
        assert event["at"].endswith(".000000+00:00")  # the exact text hashed


class TestReceived:
    def test_a_resumed_stream_verifies_with_the_chain_key(self, runtime: Runtime) -> None:
        record(runtime, 3)
        first = exported(runtime)
        record(runtime, 2, first=4)
        second = exported(runtime, after=3)

        report = received(first + second, keyring=chain_keyring(runtime.settings))

        assert report.intact, report.problem
        assert (report.checked, report.first_seq, report.last_seq) == (5, 1, 5)
        assert report.hashes_recomputed

    def test_the_second_part_alone_links_to_the_last_hash_received(self, runtime: Runtime) -> None:
        record(runtime, 4)
        first, second = exported(runtime, limit=2), exported(runtime, after=2)
        last_hash = received(first).last_hash

        assert received(second, after_hash=last_hash).intact
        bad = received(second, after_hash="f" * 64)
        assert bad.first_bad_seq == 3
        assert "does not link" in (bad.problem or "")

    def test_a_redelivered_event_is_recognised(self, runtime: Runtime) -> None:
        record(runtime, 3)
        lines = exported(runtime)

        report = received([*lines, lines[1], lines[2]])

        assert report.intact, report.problem
        assert (report.checked, report.duplicates) == (3, 2)

    def test_the_same_seq_with_another_hash_is_refused(self, runtime: Runtime) -> None:
        record(runtime, 2)
        lines = exported(runtime)
        forged = {**json.loads(lines[1]), "hash": "e" * 64}

        report = received([*lines, json.dumps(forged)])

        assert report.first_bad_seq == 2
        assert "received before with another hash" in (report.problem or "")

    def test_a_dropped_event_is_a_gap(self, runtime: Runtime) -> None:
        record(runtime, 4)
        lines = exported(runtime)

        report = received([lines[0], lines[1], lines[3]])

        assert report.first_bad_seq == 4
        assert "expected event #3" in (report.problem or "")
        assert report.checked == 2

    def test_an_edited_field_is_found_with_the_key_only(self, runtime: Runtime) -> None:
        record(runtime, 3)
        lines = exported(runtime)
        edited = json.loads(lines[1])
        edited["data"]["after"] = {"n": 99}
        lines[1] = json.dumps(edited)

        with_key = received(lines, keyring=chain_keyring(runtime.settings))
        without = received(lines)

        assert with_key.first_bad_seq == 2
        assert "content does not match its hash" in (with_key.problem or "")
        assert without.intact
        assert not without.hashes_recomputed

    def test_an_unreadable_line_is_named(self) -> None:
        report = received(['{"seq": 1}'])
        assert "line 1 is not an audit event" in (report.problem or "")
        assert "missing field" in (report.problem or "")
        assert "not a JSON object" in (received(["[1]"]).problem or "")
