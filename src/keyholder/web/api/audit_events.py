"""The audit log as a cursor for consumers outside (issue 19).

``GET /api/audit/events?after=SEQ`` (platform admins) and
``GET /api/enterprise-accounts/{name}/audit-events?after=SEQ`` (the account's
admins). A client keeps the last ``next_after`` it processed and loops until a
page comes back empty; ``Link: <…>; rel="next"`` marks a full page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from keyholder.accounts.history import account_events_after
from keyholder.audit.export import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MAX_SEQ,
    Page,
    platform_events_after,
)
from keyholder.audit.schemas import AuditPageOut, page_out
from keyholder.web.deps import CurrentActor, ReadUoW

router = APIRouter(tags=["audit"])

After = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_SEQ,
        description="Events with a seq above this one: 0 from the start, else the "
        "next_after of the last page processed.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Events per page.")]

_CHAIN_NOTE = (
    " Each event carries prev_hash, hash and every field the hash covers: a consumer "
    "checks that seqs follow one another and each prev_hash is the hash before it, "
    "recognises a re-delivered event by its seq and hash, and with the chain key "
    "recomputes each hash (`keyholder audit verify-export`)."
)


@router.get(
    "/audit/events",
    response_model=AuditPageOut,
    summary="The audit log after a seq (platform admins)",
    description="Oldest first, seq above `after`." + _CHAIN_NOTE,
)
def list_events(
    *,
    request: Request,
    response: Response,
    uow: ReadUoW,
    actor: CurrentActor,
    after: After = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> AuditPageOut:
    page = platform_events_after(uow, after, limit=limit, actor=actor)
    return _answer(page, request, response)


@router.get(
    "/enterprise-accounts/{name}/audit-events",
    response_model=AuditPageOut,
    tags=["enterprise accounts"],
    summary="An account's audit history after a seq (its admins)",
    description="Events about the account, its members and invitations, oldest first. "
    "Their seqs skip the other accounts' events, so these pages are not contiguous: "
    "their links and hashes can be checked only against the whole chain; a consumer "
    "resumes from next_after and recognises a re-delivered event by its seq and hash.",
)
def list_account_events(
    name: str,
    *,
    request: Request,
    response: Response,
    uow: ReadUoW,
    actor: CurrentActor,
    after: After = 0,
    limit: Limit = DEFAULT_PAGE_SIZE,
) -> AuditPageOut:
    page = account_events_after(uow, name, after, limit=limit, actor=actor)
    return _answer(page, request, response)


def _answer(page: Page, request: Request, response: Response) -> AuditPageOut:
    if page.full:
        following = request.url.include_query_params(after=page.next_after)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return page_out(page)
