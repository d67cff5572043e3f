"""Upgrading a database with events from before keyed chaining (migration 0009, S36)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy import Engine

from keyholder.bootstrap import bootstrap
from keyholder.clock import FixedClock
from keyholder.config import Settings
from keyholder.db import migrate
from keyholder.db.base import load_all_models
from tests.audit.conftest import record, verify
from tests.conftest import START


def insert_event_as_0008_did(engine: Engine, seq: int, prev_hash: str, at: datetime) -> str:
    """An event hashed the way the code before keyed chaining hashed it (plain SHA-256)."""
    row = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": "cli:root",
        "action": "account.create",
        "target": f"account:a{seq}",
        "data": {"before": None, "after": {"n": seq}},
        "client_address": None,
        "request_id": None,
        "prev_hash": prev_hash,
    }
    encoded = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(encoded.encode()).hexdigest()
    # Through the table's column types (not the model: 0008 had no key_id).
    audit_events = load_all_models().tables["audit_events"]
    with engine.begin() as connection:
        connection.execute(audit_events.insert().values(row | {"at": at, "hash": digest}))
    return digest


def test_s36_events_written_before_0009_still_verify_after_the_upgrade(
    blank_engine: Engine, settings: Settings
):
    migrate.upgrade(blank_engine, "0008")
    prev = "0" * 64
    for seq in (1, 2):
        prev = insert_event_as_0008_did(blank_engine, seq, prev, START - timedelta(days=3 - seq))

    migrate.upgrade(blank_engine)
    runtime = bootstrap(settings, clock=FixedClock(START), engine=blank_engine)
    try:
        record(runtime, 2, first=3)
        report = verify(runtime)
    finally:
        runtime.hashing.close()
        runtime.rate_limiter.close()

    assert report.intact, report.problem
    assert (report.checked, report.legacy) == (4, 2)
