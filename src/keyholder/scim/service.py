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

from collections.abc import Callable, Sequence
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
from scim2_models.path import CompareOperator, Comparison

from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.policy import managed_account, readable_account
from keyholder.db.tx import Tx
from keyholder.db.uow import UnitOfWork
from keyholder.errors import InvalidInput
from keyholder.identity.emails import normalize_email
from keyholder.scim import changes
from keyholder.scim.resources import DEFAULT_COUNT, MAX_RESULTS, POLICY, Member, scim_id
from keyholder.scim.state import (
    UserState,
    add_meta,
    addresses,
    emails_for_key,
    find_state,
    load_states,
    render,
    state_by_id,
)
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
        if matcher is None:  # a page of the addresses, then only its Users read
            every = addresses(uow, account)
            chosen = load_states(uow, account, emails=every[start_index - 1 :][:count])
            return Page([render(s, base) for s in chosen], len(every), start_index)
        states = load_states(uow, account, emails=_candidates(uow, account, matcher))
    # Matching needs no meta (its ETag is most of a render's cost): added to the page only.
    matched = [
        (state, resource)
        for state in narrowed(states, matcher)
        if matcher.match(resource := render(state, base, with_meta=False))
    ]
    chosen_pairs = matched[start_index - 1 : start_index - 1 + count]
    page = [add_meta(resource, state, base) for state, resource in chosen_pairs]
    return Page(resources=page, total=len(matched), start_index=start_index)


def _candidates(
    tx: Tx, account: EnterpriseAccount, matcher: ScimFilter[Member] | None
) -> set[str] | None:
    """The addresses that can match a filter that looks a person up by userName or
    externalId (what IdPs send before creating one), read from the keys alone;
    None when every User must be read."""
    node = matcher.ast if matcher is not None else None
    if (
        not isinstance(node, Comparison)
        or node.op is not CompareOperator.eq
        or not isinstance(node.value, str)
        or node.attr_path.uri
        or node.attr_path.sub_attr
    ):
        return None
    return emails_for_key(tx, account, node.attr_path.attr.casefold(), node.value)


def narrowed(states: Sequence[UserState], matcher: ScimFilter[Member]) -> Sequence[UserState]:
    """The states that can match ``matcher``: fewer when it is one ``eq`` on a key.

    The filters IdPs send to find a person (``userName eq``, ``emails.value
    eq``, ``externalId eq``, ``id eq``) are answered without rendering the
    whole account. Keys compare case-folded here, a superset of the matches:
    the filter itself still decides on the states left.
    """
    node = matcher.ast
    if (
        not isinstance(node, Comparison)
        or node.op is not CompareOperator.eq
        or not isinstance(node.value, str)
        or node.attr_path.uri
    ):
        return states
    keys = _KEYS.get((node.attr_path.attr.casefold(), (node.attr_path.sub_attr or "").casefold()))
    if keys is None:
        return states
    wanted = node.value.casefold()
    return [state for state in states if wanted in keys(state)]


def _emails_of(state: UserState) -> set[str]:
    found = {state.email}
    if state.record is not None:
        for entry in state.record.attributes.get("emails") or []:
            if isinstance(entry, dict) and isinstance(entry.get("value"), str):
                found.add(entry["value"].casefold())
    return found


def _external_id_of(state: UserState) -> set[str]:
    external = state.record.external_id if state.record is not None else None
    return {external.casefold()} if external else set()


# The keys of the attributes ``narrowed`` looks up, case-folded, by (attribute, sub-attribute).
_KEYS: dict[tuple[str, str], Callable[[UserState], set[str]]] = {
    ("username", ""): lambda state: {state.user_name.casefold(), state.email},
    ("id", ""): lambda state: {str(state.id)},
    ("externalid", ""): _external_id_of,
    ("emails", "value"): _emails_of,
    ("emails", ""): _emails_of,
}


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
        named = emails_for_key(uow, account, "username", resource.user_name or email) or set()
        states = load_states(uow, account, emails={email, *named})
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
    state = state_by_id(tx, account, user_id)
    if state is None:
        raise NotFoundException(detail=f"no User {user_id} on {account.name!r}")
    return state


def _commit_and_render(
    uow: UnitOfWork, account: EnterpriseAccount, state: UserState, base: str
) -> Member:
    uow.flush()
    # Read again: the change may have made a membership or an invitation.
    found = find_state(load_states(uow, account, emails=[state.email]), str(state.id))
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
