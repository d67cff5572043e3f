"""Reading the audit log in order, page by page, for consumers outside (issue 19).

A consumer asks for the events after the last seq it holds and loops until a
page comes back empty. Each event travels with everything its hash covers
(``chain.compute_hash``), its link and its hash, so whoever receives it can
check the linkage (``audit.received``) and, holding the chain key, recompute
each hash. A re-delivered event is recognised by its seq and hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, select

from keyholder.audit.chain import hashed_fields
from keyholder.audit.models import AuditEvent
from keyholder.db.tx import Tx
from keyholder.db.types import INTEGER_MAX
from keyholder.db.uow import UnitOfWork
from keyholder.errors import PermissionDenied

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_SEQ = INTEGER_MAX  # the seq column: a cursor above it is refused, not queried

PLATFORM_ADMINS_ONLY = "only platform admins can read the whole audit log"


class StaffAdminCheck(Protocol):
    """Who reads the whole log: ``identity.actor.Actor`` is one (audit sits below identity)."""

    @property
    def is_staff_admin(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Page:
    events: Sequence[AuditEvent]
    next_after: int  # the cursor for the next page: the last seq here, else the one asked
    full: bool  # as many events as asked: there may be more


def events_after(
    tx: Tx,
    after: int,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    matching: ColumnElement[bool] | None = None,
) -> Page:
    """Up to ``limit`` events with seq > ``after``, oldest first, in the caller's transaction.

    ``matching`` narrows them (an account's events, ``accounts.history``); the
    caller has checked who may read them.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be 1-{MAX_PAGE_SIZE}")
    query = select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(limit)
    if matching is not None:
        query = query.where(matching)
    events = tx.session.scalars(query).all()
    next_after = events[-1].seq if events else after
    return Page(events, next_after, full=len(events) == limit)


def platform_events_after(
    uow: UnitOfWork, after: int, *, limit: int = DEFAULT_PAGE_SIZE, actor: StaffAdminCheck
) -> Page:
    """A page of the whole log: platform admins only (staff without MFA: 403, S18)."""
    if not actor.is_staff_admin:
        raise PermissionDenied(PLATFORM_ADMINS_ONLY)
    with uow:
        page = events_after(uow, after, limit=limit)
        for event in page.events:
            uow.session.expunge(event)  # read after the session closes
        return page


def event_record(event: AuditEvent) -> dict[str, Any]:
    """The event as exported: every field its hash covers, in the hashed form, and the hash."""
    return {**hashed_fields(event), "key_id": event.key_id, "hash": event.hash}


def event_from_record(record: object) -> AuditEvent:
    """A detached event rebuilt from ``event_record``'s output (for recomputing its hash).

    Raises ValueError when it is not an object, or a field is missing or of the wrong type.
    """
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")  # noqa: TRY004 (one error for any bad line)
    try:
        event = AuditEvent(
            seq=_typed(record, "seq", int),
            at=datetime.fromisoformat(_typed(record, "at", str)),
            actor=_typed(record, "actor", str),
            action=_typed(record, "action", str),
            target=_typed(record, "target", str),
            data=_typed(record, "data", dict),
            client_address=_typed(record, "client_address", str, optional=True),
            request_id=_typed(record, "request_id", str, optional=True),
            prev_hash=_typed(record, "prev_hash", str),
            hash=_typed(record, "hash", str),
            key_id=_typed(record, "key_id", str, optional=True),
        )
    except KeyError as exc:
        raise ValueError(f"missing field {exc.args[0]!r}") from exc
    return event


def _typed(record: dict[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    value = record[name]
    if (value is None and optional) or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise ValueError(f"field {name!r} is not a {kind.__name__}")
