"""Where the slices built on the desk plug into it.

Access builds on the desk, not the other way round: the desk never imports
it. A slice that owns a kind of ticket registers here what the desk must ask
it (``keyholder.access.wiring``), and ``bootstrap`` registers every slice
before any unit of work runs. Registering a hook again is a no-op: a process
may bootstrap several runtimes. Hooks run in the caller's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from keyholder.db.tx import Tx
    from keyholder.desk.models import Ticket


class RequesterReplied(Protocol):
    """The requester wrote on their ticket (not on a follow-up of a closed one)."""

    def __call__(self, tx: Tx, ticket: Ticket, /) -> None: ...


class CustomerVisible(Protocol):
    """A WHERE clause every ticket must meet for its customer to see it."""

    def __call__(self) -> ColumnElement[bool]: ...


_requester_replied: list[RequesterReplied] = []
_customer_visible: list[CustomerVisible] = []


def on_requester_reply(hook: RequesterReplied) -> None:
    if hook not in _requester_replied:
        _requester_replied.append(hook)


def limit_customer_view(hook: CustomerVisible) -> None:
    if hook not in _customer_visible:
        _customer_visible.append(hook)


def requester_replied(tx: Tx, ticket: Ticket) -> None:
    for hook in _requester_replied:
        hook(tx, ticket)


def customer_visible() -> list[ColumnElement[bool]]:
    return [hook() for hook in _customer_visible]
