"""SCIM use cases on one account's Users: one request, one transaction.

The caller is a ``ScimCaller`` (``scim.tokens``): its account is the only one
these functions ever touch. Writes lock the account row first
(``managed_account``), like every member change, then load the account's SCIM
Users (``scim.state``), work on their SCIM form with scim2-models (PATCH
operations, PUT's mutability rules, filters) and hand the result to
``scim.changes``, which changes access through ``accounts``.

Reads and filters work on the whole account in memory: accounts have members by
the hundreds or thousands, and a filter is then evaluated by scim2-models
exactly as RFC 7644 specifies it, on every attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scim2_models import (
    InvalidFilterException,
    InvalidValueException,
    NotFoundException,
    PatchOp,
    PreconditionFailedException,
    ScimFilter,
    UniquenessException,
)

from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.policy import managed_account, readable_account
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import InvalidInput
from keyholder.identity.emails import normalize_email
from keyholder.scim import changes
from keyholder.scim.resources import DEFAULT_COUNT, MAX_RESULTS, POLICY, Member, scim_id
from keyholder.scim.state import UserState, find_state, load_states, render
from keyholder.scim.tokens import ScimCaller


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a query: the resources on it and how many matched in all."""

    resources: Sequence[Member]
    total: int
    start_index: int


def list_users(
    uow: UnitOfWork,
    caller: ScimCaller,
    *,
    base: str,
    filter_text: str | None = None,
    start_index: int = 1,
    count: int | None = None,
) -> Page:
    """The account's Users matching ``filter_text``, by address, one page of them.

    ``start_index`` is 1-based (below 1 counts as 1); ``count`` defaults to
    ``DEFAULT_COUNT``, is at most ``MAX_RESULTS``, and 0 asks only for the total.
    """
    matcher = _filter(filter_text)
    start_index = max(start_index, 1)
    count = DEFAULT_COUNT if count is None else min(max(count, 0), MAX_RESULTS)
    with uow:
        account = readable_account(uow, caller.account_name, actor=caller.actor)
        resources = [render(state, base) for state in load_states(uow, account)]
    if matcher is not None:
        resources = [r for r in resources if matcher.match(r)]
    chosen = resources[start_index - 1 : start_index - 1 + count]
    return Page(resources=chosen, total=len(resources), start_index=start_index)


def get_user(uow: UnitOfWork, caller: ScimCaller, user_id: str, *, base: str) -> Member:
    with uow:
        account = readable_account(uow, caller.account_name, actor=caller.actor)
        return render(_state(uow, account, user_id), base)


def create_user(uow: UnitOfWork, caller: ScimCaller, resource: Member, *, base: str) -> Member:
    """Add the person (or invite them, when they have no user yet), as ``POST /Users``.

    Their address is ``userName`` when it is one, else the primary (or only)
    email. An address already on the account is a uniqueness conflict (409):
    the IdP finds it with a filter and takes it over.
    """
    email = _address_of(resource)
    with uow:
        account = managed_account(uow, caller.account_name, actor=caller.actor)
        states = load_states(uow, account)
        taken = {s.email for s in states} | {s.user_name.casefold() for s in states}
        if email in taken or (resource.user_name or "").casefold() in taken:
            raise UniquenessException(
                detail=f"{resource.user_name} is already a User of {account.name!r}: "
                "find it with a filter on userName"
            )
        state = UserState(id=scim_id(account.id, email), email=email)
        if resource.active is None:
            resource.active = True  # a new User is active unless it says otherwise
        changes.apply(uow, account, state, resource, actor=caller.actor)
        return _commit_and_render(uow, account, state, base)


def replace_user(
    uow: UnitOfWork,
    caller: ScimCaller,
    user_id: str,
    resource: Member,
    *,
    base: str,
    if_match: str | None = None,
) -> Member:
    """``PUT /Users/{id}``: read-only attributes kept, immutable ones unchanged.

    RFC 7644 §3.5.1, as scim2-models' ``Resource.replace`` applies it.
    """
    with uow:
        account = managed_account(uow, caller.account_name, actor=caller.actor)
        state = _state(uow, account, user_id)
        current = render(state, base)
        _check_version(current, if_match)
        resource.replace(current)
        changes.apply(uow, account, state, resource, actor=caller.actor)
        return _commit_and_render(uow, account, state, base)


def patch_user(
    uow: UnitOfWork,
    caller: ScimCaller,
    user_id: str,
    patch: PatchOp[Any],
    *,
    base: str,
    if_match: str | None = None,
) -> Member:
    """``PATCH /Users/{id}``: the operations applied to the User's SCIM form, then made so."""
    with uow:
        account = managed_account(uow, caller.account_name, actor=caller.actor)
        state = _state(uow, account, user_id)
        current = render(state, base)
        _check_version(current, if_match)
        wanted = current.model_copy(deep=True)
        patch.patch(wanted, scim_policy=POLICY)
        if wanted.user_name != current.user_name:
            raise InvalidValueException(detail="userName cannot change")
        changes.apply(uow, account, state, wanted, actor=caller.actor)
        return _commit_and_render(uow, account, state, base)


def delete_user(
    uow: UnitOfWork, caller: ScimCaller, user_id: str, *, base: str, if_match: str | None = None
) -> None:
    """``DELETE /Users/{id}``: off the account (the last admin never), and forgotten."""
    with uow:
        account = managed_account(uow, caller.account_name, actor=caller.actor)
        state = _state(uow, account, user_id)
        _check_version(render(state, base), if_match)
        changes.remove(uow, account, state, actor=caller.actor)
        uow.commit()


def _state(tx: Tx, account: EnterpriseAccount, user_id: str) -> UserState:
    state = find_state(load_states(tx, account), user_id)
    if state is None:
        raise NotFoundException(detail=f"no User {user_id} on {account.name!r}")
    return state


def _commit_and_render(
    uow: UnitOfWork, account: EnterpriseAccount, state: UserState, base: str
) -> Member:
    uow.flush()
    # Read again: the change may have made a membership or an invitation.
    found = find_state(load_states(uow, account), str(state.id))
    assert found is not None  # the record at least was just written
    resource = render(found, base)
    uow.commit()
    return resource


def _check_version(current: Member, if_match: str | None) -> None:
    """RFC 7644 §3.14 (and RFC 9110 §13.1.1): 412 unless an If-Match names this version."""
    if if_match is None:
        return
    version = current.meta.version if current.meta is not None else None
    offered = [tag.strip() for tag in if_match.split(",")]
    if "*" in offered or (version is not None and _weakly(version) in map(_weakly, offered)):
        return
    raise PreconditionFailedException(
        detail=f"the User changed since that version; its version is now {version}"
    )


def _weakly(tag: str) -> str:
    return tag.removeprefix("W/")


def _filter(text: str | None) -> ScimFilter[Member] | None:
    if text is None or not text.strip():
        return None
    try:
        return ScimFilter[Member](text)
    except InvalidFilterException:
        raise
    except ValueError as exc:
        raise InvalidFilterException(detail=f"invalid filter: {exc}") from exc


def _address_of(resource: Member) -> str:
    """The member's address: userName when it is one, else the primary (or first) email."""
    candidates = [resource.user_name or ""]
    emails = resource.emails or []
    primary = [e for e in emails if e.primary] + [e for e in emails if not e.primary]
    candidates += [str(e.value) for e in primary if e.value]
    for candidate in candidates:
        if "@" not in candidate:
            continue
        try:
            return normalize_email(candidate)
        except InvalidInput:
            continue
    raise InvalidValueException(
        detail="a User needs an email address: as its userName, or as its primary email"
    )
