"""The web UI: server-rendered pages over the same use cases as the JSON API.

``router`` is included by ``create_app``. Pages live in one module per area;
templates in ``templates/``, the stylesheet in ``static/`` (served at
``/static``). See ``rendering`` for the headers every page carries and
``csrf`` for the tokens every form carries (S19).
"""

from __future__ import annotations

from fastapi import APIRouter

from keyholder.web.ui import (
    accounts,
    canned,
    contacts,
    desk,
    desk_ticket,
    devletter,
    devmail,
    home,
    links,
    portal,
    recovery_claim,
    review,
    security,
    signin,
    ticket_link,
    tickets,
)

# Each area's router; paths carry their own prefixes, so they are included as they are.
PARTS = (
    home.router,
    signin.router,
    signin.token_router,
    security.router,
    security.token_router,
    accounts.router,
    contacts.router,
    contacts.token_router,
    links.router,
    devmail.router,
    devletter.router,
    portal.router,
    recovery_claim.router,
    tickets.router,
    ticket_link.router,
    desk.router,
    canned.router,
    desk_ticket.router,
    review.router,
)
router = APIRouter(include_in_schema=False)
for part in PARTS:
    router.include_router(part)

__all__ = ["PARTS", "router"]
