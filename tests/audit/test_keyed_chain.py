"""The audit chain is keyed: an HMAC with a versioned key kept out of the database (S36)."""

from __future__ import annotations

import base64
from collections.abc import Callable

from pydantic import SecretStr
from sqlalchemy import select

from keyholder.audit.keys import ChainKeyring
from keyholder.audit.models import AuditEvent
from keyholder.audit.service import GENESIS_HASH, compute_hash
from keyholder.bootstrap import Runtime
from tests.audit.conftest import execute, record, verify

NEW_KEY = SecretStr(base64.b64encode(b"the next chain key, 32 bytes ...").decode())
ATTACKER_KEY = ChainKeyring({"dev": b"the attacker's own key, 32 bytes"}, "dev")


def rewrite_chain(
    runtime: Runtime, *, start: int, key_id: str | None, keyring: ChainKeyring
) -> None:
    """An attacker with write access edits event ``start`` and recomputes every link after it."""
    with runtime.uow() as uow:
        events = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        events[start - 1].actor = "forger"
        prev = events[start - 2].hash if start > 1 else GENESIS_HASH
        for event in events[start - 1 :]:
            event.prev_hash, event.key_id = prev, key_id
            event.hash = compute_hash(event, keyring)
            prev = event.hash
        uow.commit()


def chain_key(runtime: Runtime, key_id: str) -> bytes:
    return base64.b64decode(runtime.settings.audit_keys[key_id].get_secret_value())


class TestKeyedChain:
    def test_s36_each_event_is_an_hmac_with_the_current_key_it_names(self, runtime):
        record(runtime, 2)

        with runtime.uow(read_only=True) as uow:
            events = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()

        assert [e.key_id for e in events] == ["dev", "dev"]
        assert events[1].prev_hash == events[0].hash
        for event in events:
            unkeyed = compute_hash(_as_legacy(event), ATTACKER_KEY)
            assert event.hash != unkeyed  # not recomputable from the row alone
        assert verify(runtime).intact

    def test_s36_the_key_comes_from_the_settings_not_the_database(self, runtime):
        record(runtime, 1)
        key = chain_key(runtime, "dev")

        with runtime.uow(read_only=True) as uow:
            event = uow.session.get_one(AuditEvent, 1)
            keyring = ChainKeyring({"dev": key}, "dev")
            assert event.hash == compute_hash(event, keyring)

    def test_s36_a_chain_recomputed_with_another_key_fails_at_the_edited_event(self, runtime):
        record(runtime, 5)

        rewrite_chain(runtime, start=3, key_id="dev", keyring=ATTACKER_KEY)

        report = verify(runtime)
        assert report.first_bad_seq == 3
        assert report.problem == (
            "audit chain broken at event #3: content does not match its hash "
            "(2 events before it are intact)"
        )

    def test_s36_a_tail_recomputed_as_unkeyed_sha256_fails_at_its_first_event(self, runtime):
        record(runtime, 5)

        rewrite_chain(runtime, start=4, key_id=None, keyring=ATTACKER_KEY)

        report = verify(runtime)
        assert report.first_bad_seq == 4
        assert "an unkeyed (SHA-256) event after keyed ones" in (report.problem or "")


class TestRotation:
    def test_s36_after_rotation_old_and_new_events_verify(
        self, runtime, derive_runtime: Callable[..., Runtime]
    ):
        record(runtime, 3)
        keys = dict(runtime.settings.audit_keys) | {"2026-12": NEW_KEY}
        rotated = derive_runtime(audit_keys=keys, audit_key_id="2026-12")

        record(rotated, 2, first=4)

        with runtime.uow(read_only=True) as uow:
            key_ids = uow.session.scalars(select(AuditEvent.key_id).order_by(AuditEvent.seq))
            assert list(key_ids) == ["dev", "dev", "dev", "2026-12", "2026-12"]
        report = verify(rotated)
        assert report.intact
        assert report.checked == 5

    def test_s36_an_event_whose_key_is_gone_is_named(
        self, runtime, derive_runtime: Callable[..., Runtime]
    ):
        record(runtime, 2)
        only_new = derive_runtime(audit_keys={"2026-12": NEW_KEY}, audit_key_id="2026-12")

        report = verify(only_new)

        assert report.first_bad_seq == 1
        assert "names chain key 'dev', which is not in KEYHOLDER_AUDIT_KEYS" in (
            report.problem or ""
        )


class TestEventsFromBeforeKeyedChaining:
    def test_s36_legacy_sha256_events_verify_and_are_sealed_by_the_first_keyed_one(self, runtime):
        record(runtime, 2)
        rewrite_chain(runtime, start=1, key_id=None, keyring=ATTACKER_KEY)  # as 0008 wrote them
        record(runtime, 2, first=3)

        report = verify(runtime)
        assert report.intact
        assert (report.checked, report.legacy) == (4, 2)

        # Editing a legacy event now breaks the keyed link after it.
        execute(runtime, "UPDATE audit_events SET target = 'thing:99' WHERE seq = 1")
        assert verify(runtime).first_bad_seq == 1


def _as_legacy(event: AuditEvent) -> AuditEvent:
    return AuditEvent(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        action=event.action,
        target=event.target,
        data=event.data,
        client_address=event.client_address,
        request_id=event.request_id,
        prev_hash=event.prev_hash,
        key_id=None,
    )
