"""/api/enterprise-accounts: accounts, their members and invitations."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from keyholder.accounts import invitations, members
from keyholder.accounts import service as accounts
from keyholder.accounts.schemas import (
    AccountOut,
    InvitationOut,
    MemberOut,
    account_out,
    invitation_out,
    member_out,
)
from keyholder.accounts.service import ContactInput
from keyholder.web.api import recovery
from keyholder.web.api.schemas import AccountCreate, MemberCreate, MemberUpdate
from keyholder.web.deps import CurrentActor, ReadUoW, UoW, current_actor, uow_for

router = APIRouter(prefix="/enterprise-accounts", tags=["enterprise accounts"])

# Reads are `async def` on purpose: each is one or two indexed lookups taking
# tens of microseconds, far less than a hop to the thread pool. Writes hash,
# lock and send mail, so they stay plain `def` and run in the pool.


# Heroku's Platform API: Enterprise Account List and Info. How its fields and
# paths map to ours is in docs/heroku-compatibility.md and on AccountOut.
HEROKU_MAPPING = """
Heroku Platform API compatible (`Accept: application/vnd.heroku+json; version=3` is
accepted; answers are JSON). Heroku fields keep Heroku's names and types:

| Heroku | Keyholder |
|---|---|
| `id`, `name`, `created_at`, `updated_at` | the same |
| `permissions` (strings) | the caller's own permissions; `[]` for staff who are not members |
| `trial` | always `false` |
| `identity_provider` | always `null` |
| (none) | `display_name`, `contract_number`, `domains`, `contacts` |
"""

IdOrName = Annotated[
    str,
    Path(
        description="The account's name, or its id (a UUID), as Heroku's "
        "`enterprise_account_id_or_enterprise_account_name`."
    ),
]


# The API's hottest read comes first: routes are tried in order, twice per
# request (the included router, then its routes), and each miss costs.
@router.get("/{name}/members/{email}", response_model=MemberOut)
async def get_member(name: IdOrName, email: str, request: Request) -> Response:
    # The caller and the unit of work come from the functions behind CurrentActor
    # and ReadUoW, called here rather than declared: FastAPI's resolution of the
    # two dependencies cost this route about 10% of its time (benchmarks/README.md,
    # "Dependencies called, not declared"). Same checks, same order.
    uow = uow_for(request, read_only=True)
    actor = await current_actor(request)
    member = member_out(members.get_member(uow, name, email, actor=actor))
    # Built and validated once, by member_out. Returned as the model, FastAPI
    # would validate it a second time against response_model, which costs
    # about as much as the lookup itself; the JSON is the same.
    return Response(member.model_dump_json(), media_type="application/json")


@router.get(
    "",
    response_model=list[AccountOut],
    summary="List enterprise accounts",
    description="The accounts the caller may read: staff all, members theirs (Heroku: "
    "enterprise accounts in which you are a member), by name.\n" + HEROKU_MAPPING,
)
async def list_accounts(uow: ReadUoW, actor: CurrentActor) -> list[AccountOut]:
    return [
        account_out(seen.account, seen.permissions)
        for seen in accounts.list_accounts_with_permissions(uow, actor=actor)
    ]


@router.post("", response_model=AccountOut, status_code=status.HTTP_201_CREATED)
def create_account(body: AccountCreate, uow: UoW, actor: CurrentActor) -> AccountOut:
    account = accounts.create_account(
        uow,
        name=body.name,
        contract_number=body.contract_number,
        display_name=body.display_name,
        domains=body.domains,
        contacts=[ContactInput(c.kind, c.name, c.title, c.email) for c in body.contacts],
        actor=actor,
    )
    return account_out(account)


@router.get(
    "/{name}",
    response_model=AccountOut,
    summary="Info for an enterprise account",
    description="One account, by name or id, if the caller may read it; otherwise 404, "
    "the same for an id as for a name.\n" + HEROKU_MAPPING,
)
async def get_account(name: IdOrName, uow: ReadUoW, actor: CurrentActor) -> AccountOut:
    seen = accounts.get_account_with_permissions(uow, name, actor=actor)
    return account_out(seen.account, seen.permissions)


@router.get("/{name}/members", response_model=list[MemberOut])
async def list_members(name: IdOrName, uow: ReadUoW, actor: CurrentActor) -> list[MemberOut]:
    return [member_out(m) for m in members.list_members(uow, name, actor=actor)]


@router.post(
    "/{name}/members",
    response_model=MemberOut,
    status_code=status.HTTP_201_CREATED,
    responses={202: {"model": InvitationOut, "description": "No user has this email yet: invited"}},
)
def add_member(name: str, body: MemberCreate, uow: UoW, actor: CurrentActor) -> Response:
    added = members.add_member(uow, name, body.user.email, body.permissions, actor=actor)
    if added.invitation is not None:
        payload = invitation_out(added.invitation).model_dump(mode="json")
        return JSONResponse(payload, status_code=status.HTTP_202_ACCEPTED)
    assert added.membership is not None
    payload = member_out(added.membership).model_dump(mode="json")
    return JSONResponse(payload, status_code=status.HTTP_201_CREATED)


# Issue 18: an admin leaving who leaves one admin behind answers 409 "Confirmation
# required" until repeated with confirm=true; the last admin leaving answers 409
# "Last admin" unless a successor (a member, who gets manage) is named.
Confirm = Annotated[
    bool, Query(description="Go ahead although the account is left with one admin.")
]
Successor = Annotated[
    str | None,
    Query(
        max_length=320,
        description="When the last admin leaves: the member who gets manage in the same change.",
    ),
]
_ADMIN_LEAVES: dict[int | str, dict[str, Any]] = {
    409: {"description": "Confirmation required, or the last admin needs a successor"}
}


@router.patch("/{name}/members/{email}", response_model=MemberOut, responses=_ADMIN_LEAVES)
def update_member(
    name: str,
    email: str,
    body: MemberUpdate,
    uow: UoW,
    *,
    actor: CurrentActor,
    confirm: Confirm = False,
    successor: Successor = None,
) -> MemberOut:
    membership = members.set_member_permissions(
        uow, name, email, body.permissions, actor=actor, confirm=confirm, successor=successor
    )
    return member_out(membership)


@router.delete(
    "/{name}/members/{email}", status_code=status.HTTP_204_NO_CONTENT, responses=_ADMIN_LEAVES
)
def remove_member(
    name: str,
    email: str,
    uow: UoW,
    *,
    actor: CurrentActor,
    confirm: Confirm = False,
    successor: Successor = None,
) -> Response:
    members.remove_member(uow, name, email, actor=actor, confirm=confirm, successor=successor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{name}/invitations", response_model=list[InvitationOut])
def list_invitations(name: str, uow: UoW, actor: CurrentActor) -> list[InvitationOut]:
    return [invitation_out(i) for i in invitations.list_invitations(uow, name, actor=actor)]


@router.delete("/{name}/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_invitation(
    name: str, invitation_id: uuid.UUID, uow: UoW, actor: CurrentActor
) -> Response:
    invitations.revoke_invitation(uow, name, invitation_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Last: tried after the members' routes, which the hot path needs first.
router.include_router(recovery.router)
