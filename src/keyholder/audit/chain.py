"""How an audit event's hash is made (S36): one definition for writing and verifying."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from keyholder.audit.keys import ChainKeyring
from keyholder.audit.models import AuditEvent

GENESIS_HASH = "0" * 64  # what the first event links to


def compute_hash(event: AuditEvent, keyring: ChainKeyring) -> str:
    """The event's HMAC with the key it names, or its SHA-256 if it names none (legacy).

    Raises LookupError when the event names a key the keyring lacks.
    """
    message = _canonical_content(event)
    if event.key_id is None:
        return hashlib.sha256(message).hexdigest()
    return keyring.mac(event.key_id, message)


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    """The fields an event's hash covers, ``at`` in the text hashed (exports carry these)."""
    payload: dict[str, Any] = {
        "seq": event.seq,
        "at": canonical_time(event.at),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "data": event.data,
        "client_address": event.client_address,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    if event.key_id is not None:  # legacy events were hashed without it
        payload["key_id"] = event.key_id
    return payload


def _canonical_content(event: AuditEvent) -> bytes:
    fields = hashed_fields(event)
    encoded = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return encoded.encode()


def canonical_time(at: datetime) -> str:
    """The form of ``at`` the hash covers (exports carry this exact text)."""
    return at.isoformat(timespec="microseconds")
