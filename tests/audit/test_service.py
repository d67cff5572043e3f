"""The hash-chained audit log (SECURITY.md S36)."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import text

from keyholder.audit.models import AuditEvent
from keyholder.audit.service import GENESIS_HASH, compute_hash, record_event
from keyholder.audit.settings import chain_keyring
from keyholder.audit.verify import verify_chain
from keyholder.identity.actor import Actor

ACTOR = Actor.operator("tests")


@pytest.fixture
def chain(runtime):
    """Five events in the log."""
    for n in range(1, 6):
        with runtime.uow() as uow:
            record_event(
                uow,
                actor=ACTOR,
                action="test.event",
                target=f"thing:{n}",
                before={"n": n - 1},
                after={"n": n},
            )
            uow.commit()


def verify(runtime):
    return verify_chain(runtime.uow(read_only=True))


def execute(runtime, sql, **params):
    with runtime.engine.begin() as connection:
        connection.execute(text(sql), params)


class TestChain:
    def test_intact_chain_verifies(self, runtime, chain):
        report = verify(runtime)
        assert report.intact
        assert report.checked == 5

    def test_events_link_to_their_predecessor(self, runtime, chain):
        with runtime.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq")
            ).all()
        assert rows[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))

    def test_editing_a_row_is_detected_at_that_row(self, runtime, chain):
        execute(runtime, "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 3")
        report = verify(runtime)
        assert report.first_bad_seq == 3
        assert report.checked == 2

    def test_editing_the_data_is_detected(self, runtime, chain):
        execute(runtime, "UPDATE audit_events SET target = 'thing:99' WHERE seq = 4")
        assert verify(runtime).first_bad_seq == 4

    def test_deleting_a_row_is_detected_after_the_gap(self, runtime, chain):
        execute(runtime, "DELETE FROM audit_events WHERE seq = 2")
        report = verify(runtime)
        assert report.first_bad_seq == 3
        assert "gap" in (report.problem or "")

    def test_reordering_rows_is_detected(self, runtime, chain):
        # Swap the contents of events 2 and 3 while keeping their sequence numbers.
        execute(runtime, "UPDATE audit_events SET seq = 100 WHERE seq = 2")
        execute(runtime, "UPDATE audit_events SET seq = 2 WHERE seq = 3")
        execute(runtime, "UPDATE audit_events SET seq = 3 WHERE seq = 100")
        assert verify(runtime).first_bad_seq == 2

    def test_rehashing_one_row_still_breaks_the_next_link(self, runtime, chain):
        with runtime.uow() as uow:
            event = uow.session.get(AuditEvent, 3)
            assert event is not None
            event.actor = "forger"
            event.hash = compute_hash(event, chain_keyring(runtime.settings))  # holds the key
            uow.commit()
        assert verify(runtime).first_bad_seq == 4

    def test_concurrent_writers_keep_one_linear_chain(self, runtime):
        def write(worker):
            for n in range(10):
                with runtime.uow() as uow:
                    record_event(uow, actor=ACTOR, action="test.event", target=f"w{worker}:{n}")
                    uow.commit()

        threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        report = verify(runtime)
        assert report.intact
        assert report.checked == 40

    def test_an_event_rolls_back_with_its_change(self, runtime):
        with runtime.uow() as uow:
            record_event(uow, actor=ACTOR, action="test.event", target="thing:1")
            # no commit: the change failed
        assert verify(runtime).checked == 0
