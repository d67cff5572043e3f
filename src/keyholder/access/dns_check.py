"""The DNS proof of a request: look up its TXT record and record the evidence."""

from __future__ import annotations

import uuid

from keyholder.access import evidence
from keyholder.access.dns_proof import (
    CHALLENGE_LABEL,
    TxtResolver,
    check_dns_proof,
    record_value,
)
from keyholder.access.evidence import Check, Item, Status
from keyholder.access.lifecycle import lock_request
from keyholder.access.models import AccessRequest
from keyholder.access.states import OPEN_STATES
from keyholder.accounts.models import EnterpriseAccount
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import request_target
from keyholder.db.uow import UnitOfWork
from keyholder.desk.policy import require_staff
from keyholder.errors import Conflict, NotFound
from keyholder.identity.actor import Actor


def record_for(request: AccessRequest) -> str:
    """What the customer publishes, in zone-file words."""
    return f'{CHALLENGE_LABEL}.<verified domain> TXT "{record_value(request.dns_token)}"'


def check_request(
    uow: UnitOfWork, request_id: uuid.UUID, *, actor: Actor, resolver: TxtResolver
) -> Status:
    """Look the record up on every verified domain of the account and keep the verdict.

    ``resolver`` is the runtime's (``Runtime.txt_resolver``, from the settings).
    """
    require_staff(actor)
    with uow:
        request = uow.session.get(AccessRequest, request_id)
        if request is None:
            raise NotFound("no such access request")
        account = (
            uow.session.get(EnterpriseAccount, request.account_id) if request.account_id else None
        )
        domains = [d.domain for d in account.domains if d.verified_at] if account else []
        token = request.dns_token
    # Looked up outside any transaction: DNS may take seconds, and no row waits on it.
    if not domains:
        item = Item(Check.DNS_PROOF, Status.UNKNOWN, "DNS", "the account has no verified domain")
    else:
        verdict = check_dns_proof(resolver, domains, token)
        item = Item(Check.DNS_PROOF, Status(verdict.status), "DNS", verdict.explanation)
    with uow:
        request = lock_request(uow, request_id)
        if request.state not in OPEN_STATES:
            raise Conflict(f"this request is {request.state}; nothing to check")
        evidence.record(request, [item])
        record_event(
            uow,
            actor=actor,
            action=AuditAction.ACCESS_REQUEST_DNS_CHECK,
            target=request_target(request.id),
            after={"status": item.status.value},
        )
        uow.commit()
        return item.status
