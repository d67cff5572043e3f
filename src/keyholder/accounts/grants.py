"""Granting permissions on an account: the one way a membership is made or widened.

Used by adding a member (``members.add_member``), accepting an invitation
(``invitations.accept_invitation``) and executing an access request
(``access.execution``), so the audit event and the session rotation (S15,
S41) are the same whichever way a person gets in. Helpers: they run in the
caller's transaction and never commit.
"""

from __future__ import annotations

from keyholder.accounts import repository
from keyholder.accounts.models import EnterpriseAccount, Membership
from keyholder.accounts.permissions import ADMIN_PERMISSION, PermissionSet, ordered
from keyholder.audit.actions import AuditAction
from keyholder.audit.service import record_event
from keyholder.audit.targets import member_target
from keyholder.db.tx import Tx
from keyholder.identity.actor import Actor
from keyholder.identity.models import User
from keyholder.identity.sessions import rotate_after_privilege_change


def grant_membership(
    tx: Tx,
    account: EnterpriseAccount,
    user: User,
    permissions: PermissionSet,
    *,
    actor: Actor,
    mfa_required: bool = False,
    via: str | None = None,
) -> Membership:
    """Give ``user`` ``permissions`` on ``account``, in the caller's transaction.

    A new membership (audited ``member.add``), or the permissions added to the
    one the user holds (``member.update``). ``mfa_required`` (the grant of an
    access request, S18): the member acts as admin only once enrolled. The
    user's sessions and API tokens end when they gain ``manage``, and when
    ``manage`` is granted with MFA required, so no session from before the
    grant acts without it (S15, S41). The caller checks who may grant (and S31).
    ``via`` names how a new member came (``invitation``) in the audit event.
    """
    now = tx.clock.now()
    existing = repository.membership(tx.session, account.id, user.id)
    membership = existing or Membership(
        account_id=account.id,
        user_id=user.id,
        user=user,
        account=account,
        permissions=frozenset(),
        mfa_required=False,
        added_by_id=actor.user_id,
        created_at=now,
    )
    before = membership.permissions
    membership.permissions = before | permissions
    membership.mfa_required = membership.mfa_required or mfa_required
    membership.updated_at = now
    if existing is None:
        tx.session.add(membership)
    after: dict[str, object] = {"permissions": ordered(membership.permissions)}
    if mfa_required:
        after["mfa_required"] = True
    if via is not None:
        after["via"] = via
    record_event(
        tx,
        actor=actor,
        action=AuditAction.MEMBER_ADD if existing is None else AuditAction.MEMBER_UPDATE,
        target=member_target(account.name, user.email),
        before=None if existing is None else {"permissions": ordered(before)},
        after=after,
    )
    if mfa_required and ADMIN_PERMISSION in membership.permissions:
        rotate_after_privilege_change(tx, user, reason="manage", actor=actor)
    else:
        rotate_if_manage_changed(tx, user, before, membership.permissions, actor=actor)
    return membership


def rotate_if_manage_changed(
    tx: Tx, user: User, before: PermissionSet, after: PermissionSet, *, actor: Actor
) -> None:
    """End the member's sessions and API tokens when they gain or lose ``manage``.

    In the caller's transaction (S15, S41; why losing counts too: ``identity.sessions``).
    """
    had, has = ADMIN_PERMISSION in before, ADMIN_PERMISSION in after
    if had != has:
        reason = "manage" if has else "manage_lost"
        rotate_after_privilege_change(tx, user, reason=reason, actor=actor)
