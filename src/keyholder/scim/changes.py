"""Making an account's membership what a SCIM resource says, through ``accounts``.

Every change to access goes through the helpers the API, the CLI and the
members import use (``accounts.members``): adding or inviting, replacing
permissions, taking off. So the same audit events are written, the same
invitation emails queued and the same sessions ended (S15, S41), and staff
addresses never get ``manage`` (S31). Run in the caller's transaction, with the
account row locked (``accounts.policy.managed_account``), which keeps the
last-admin guard true when two requests race.

The last-admin guard is the members' own rule without its two human steps: an
identity provider is the account's authority on who works there, so taking
``manage`` from one of two admins needs no confirmation, and a successor is
named by giving someone ``manage`` first. The last admin is never removed,
deactivated or demoted (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scim2_models import Context

from keyholder.accounts import repository
from keyholder.accounts.members import add_or_invite, replace_permissions, take_off
from keyholder.accounts.models import EnterpriseAccount, Invitation, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION, PermissionSet, parse_permissions
from keyholder.accounts.staff_addresses import refuse_staff_admin
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import invitation_target
from keyholder.db.tx import Tx
from keyholder.errors import LastAdminError
from keyholder.identity.actor import Actor
from keyholder.scim.models import ScimUser
from keyholder.scim.resources import FLAGS, KeyholderMember, Member
from keyholder.scim.state import SAID, UserState

# The attributes kept as the IdP sent them (ScimUser.attributes).
_KEPT = ("name", "displayName", "emails")


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a SCIM resource asks of Keyholder for one address."""

    active: bool
    permissions: PermissionSet

    @classmethod
    def of(cls, resource: Member) -> Wanted:
        said = _said(resource)
        names = [name for name, value in said.items() if value]
        return cls(active=resource.active is not False, permissions=parse_permissions(names))


def _said(resource: Member) -> dict[str, bool]:
    """The extension's flags the resource assigns, true or false."""
    extension = resource[KeyholderMember]
    if extension is None:
        return {}
    values = {p.value: getattr(extension, p.value) for p in FLAGS}
    return {name: value for name, value in values.items() if value is not None}


def apply(
    tx: Tx,
    account: EnterpriseAccount,
    state: UserState,
    resource: Member,
    *,
    actor: Actor,
) -> None:
    """Make ``state`` what ``resource`` says: its record, then access, then the guard."""
    wanted = Wanted.of(resource)
    _keep_record(tx, account, state, resource, wanted)
    if state.membership is not None:
        _change_member(tx, account, state.membership, wanted, actor=actor)
    elif state.invitation is not None:
        if not wanted.active:
            revoke(tx, account, state.invitation, actor=actor)
        elif wanted.permissions != state.invitation.permissions:
            # A new invitation replaces the pending one, as the members import does.
            add_or_invite(tx, account, state.email, wanted.permissions, actor=actor)
    elif wanted.active:
        add_or_invite(tx, account, state.email, wanted.permissions, actor=actor)


def remove(tx: Tx, account: EnterpriseAccount, state: UserState, *, actor: Actor) -> None:
    """Take the address off the account: membership, pending invitation and record."""
    if state.membership is not None:
        _guard_admin_leaving(tx, account, state.membership, verb="remove")
        take_off(tx, account, state.membership, actor=actor)
    if state.invitation is not None:
        revoke(tx, account, state.invitation, actor=actor)
    if state.record is not None:
        tx.session.delete(state.record)


def revoke(tx: Tx, account: EnterpriseAccount, invitation: Invitation, *, actor: Actor) -> None:
    """Revoke a pending invitation, audited as ``accounts.invitations.revoke_invitation`` does."""
    invitation.revoked_at = tx.clock.now()
    record_event(
        tx,
        actor=actor,
        action=AuditAction.INVITATION_REVOKE,
        target=invitation_target(account.name, invitation.id),
        before={"state": "pending"},
        after={"state": "revoked"},
    )


def _change_member(
    tx: Tx, account: EnterpriseAccount, membership: Membership, wanted: Wanted, *, actor: Actor
) -> None:
    if not wanted.active:
        _guard_admin_leaving(tx, account, membership, verb="deactivate")
        take_off(tx, account, membership, actor=actor)
        return
    if wanted.permissions == membership.permissions:
        return
    refuse_staff_admin(tx, membership.user.email, wanted.permissions)
    if ADMIN_PERMISSION not in wanted.permissions:
        _guard_admin_leaving(tx, account, membership, verb="take manage from")
    replace_permissions(tx, account, membership, wanted.permissions, actor=actor)


def _guard_admin_leaving(
    tx: Tx, account: EnterpriseAccount, membership: Membership, *, verb: str
) -> None:
    """The account never loses its last admin (the row is locked: no race)."""
    if ADMIN_PERMISSION not in membership.permissions:
        return
    if repository.count_admins(tx.session, account.id) <= 1:
        raise LastAdminError(
            f"cannot {verb} {membership.user.email}: they are the last member of "
            f"{account.name!r} with the {ADMIN_PERMISSION} permission, and an account never "
            f"loses its last admin. Give another member {ADMIN_PERMISSION} first "
            f"(the {ADMIN_PERMISSION} value of its permissions), then retry."
        )


def _keep_record(
    tx: Tx, account: EnterpriseAccount, state: UserState, resource: Member, wanted: Wanted
) -> None:
    dumped: dict[str, Any] = resource.model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE, by_alias=True
    )
    attributes: dict[str, Any] = {key: dumped[key] for key in _KEPT if key in dumped}
    attributes[SAID] = _said(resource)
    now = tx.clock.now()
    record = state.record
    if record is None:
        record = ScimUser(
            id=state.id,
            account_id=account.id,
            email=state.email,
            user_name=resource.user_name or state.email,
            created_at=now,
        )
        tx.session.add(record)
        state.record = record
    record.external_id = resource.external_id
    record.active = resource.active
    record.permissions = wanted.permissions
    record.attributes = attributes
    record.updated_at = now
