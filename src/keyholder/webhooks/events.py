"""Which audit actions are which webhook events, and what a delivery carries.

One table maps the audit log's vocabulary to the event types an endpoint
subscribes to; an audit action not in it is never sent as an event (an
``audit`` endpoint, the stream, gets every event whatever its action).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from keyholder.audit.actions import AuditAction
from keyholder.audit.chain import canonical_time
from keyholder.audit.export import event_record
from keyholder.audit.models import AuditCheckpoint, AuditEvent
from keyholder.webhooks.models import PayloadFormat

EVENT_TYPES: dict[AuditAction, str] = {
    AuditAction.MEMBER_ADD: "member.added",
    AuditAction.MEMBER_UPDATE: "member.changed",
    AuditAction.MEMBER_REMOVE: "member.removed",
    AuditAction.INVITATION_CREATE: "invitation.sent",
    AuditAction.INVITATION_ACCEPT: "invitation.accepted",
    AuditAction.ACCESS_REQUEST_SUBMIT: "access_request.submitted",
    AuditAction.ACCESS_REQUEST_APPROVE: "access_request.approved",
    AuditAction.ACCESS_REQUEST_VETO: "access_request.vetoed",
    AuditAction.ACCESS_REQUEST_EXECUTE: "access_request.executed",
    AuditAction.ACCESS_REQUEST_REJECT: "access_request.rejected",
    AuditAction.ACCESS_REQUEST_RECOVERY_CLAIM: "recovery_claim.submitted",
    AuditAction.ACCOUNT_RECOVERY_CODE_REFUSED: "recovery_claim.refused",
}
# Not an audit event: a signed checkpoint of the chain's head (audit.checkpoints).
CHECKPOINT_EVENT_TYPE = "audit.checkpoint"
ALL_EVENT_TYPES: frozenset[str] = frozenset({*EVENT_TYPES.values(), CHECKPOINT_EVENT_TYPE})
ACTIONS_OF: dict[str, frozenset[str]] = {
    event_type: frozenset(str(a) for a, t in EVENT_TYPES.items() if t == event_type)
    for event_type in ALL_EVENT_TYPES
}
AUDIT_EVENT_TYPE = "audit.event"  # what an audit-format endpoint's deliveries are


def event_type_of(action: str) -> str | None:
    """The webhook event type of an audit action, or None when it is not one."""
    try:
        return EVENT_TYPES.get(AuditAction(action))
    except ValueError:
        return None


def message_id(endpoint_id: str, seq: int, *, checkpoint: bool = False) -> str:
    """The ``webhook-id``: one per endpoint and event, the same on every redelivery."""
    return f"msg_{endpoint_id}_{'cp' if checkpoint else ''}{seq}"


def checkpoint_payload(checkpoint: AuditCheckpoint) -> bytes:
    """An ``audit.checkpoint`` delivery: the head the chain was anchored at.

    A receiver that kept the events compares ``head_hash`` with the hash of
    its event ``seq``; the signed checkpoint itself is in the operator's sinks.
    """
    body = {
        "type": CHECKPOINT_EVENT_TYPE,
        "timestamp": canonical_time(checkpoint.at),
        "data": {"seq": checkpoint.seq, "head_hash": checkpoint.head_hash},
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def target_ids(target: str) -> dict[str, str]:
    """``account:acme/member:a@b`` -> {"account": "acme", "member": "a@b"} (audit.targets)."""
    ids: dict[str, str] = {}
    for part in target.split("/"):
        kind, _, key = part.partition(":")
        if key:
            ids[kind] = key
    return ids


def payload(
    event: AuditEvent, payload_format: PayloadFormat, subscribed: Collection[str]
) -> tuple[str, bytes] | None:
    """(event type, body) of ``event`` for an endpoint; None when it does not want it."""
    if payload_format is PayloadFormat.AUDIT:
        event_type = AUDIT_EVENT_TYPE
        data: dict[str, Any] = event_record(event)
    else:
        found = event_type_of(event.action)
        if found is None or found not in subscribed:
            return None
        event_type = found
        data = {
            "seq": event.seq,
            "action": event.action,
            "actor": event.actor,
            "target": event.target,
            "ids": target_ids(event.target),
            "before": event.data.get("before"),
            "after": event.data.get("after"),
            "request_id": event.request_id,
            "hash": event.hash,
        }
    body = {"type": event_type, "timestamp": canonical_time(event.at), "data": data}
    encoded = json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return event_type, encoded.encode()
