"""The ways back into one account, for the "I can't reach an admin" guide (issue 18).

The guide offers an account's own recovery paths first: its recovery codes,
the executives on record who can sign a letter, the domains a DNS proof can
use. Only to someone who could take those paths anyway: a member of the
account, or a signed-in user whose verified address is on one of its
verified domains (who could redeem a code). Anyone else, anonymous visitors
first of all, gets ``None`` whether the account exists or not, and the
general guide: the page never tells a stranger whether an account has codes,
who its executives are, or that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from keyholder.accounts import repository
from keyholder.accounts.contacts import contacts_on_record
from keyholder.accounts.models import ContactKind
from keyholder.accounts.recovery_codes import claimant_on_verified_domain, recovery_code_status
from keyholder.db.uow import UnitOfWork
from keyholder.identity.actor import Actor
from keyholder.identity.models import User


@dataclass(frozen=True, slots=True)
class RecoveryPaths:
    account_name: str
    display_name: str
    codes_left: int  # unused recovery codes of the account (0: none generated, or all used)
    can_redeem: bool  # the reader's verified address is on a verified domain of the account
    executives: tuple[tuple[str, str], ...]  # (name, title) of the executives on record
    verified_domains: tuple[str, ...]


def recovery_paths(
    uow: UnitOfWork, account_name: str, *, actor: Actor | None
) -> RecoveryPaths | None:
    """The account's recovery paths, or None for a reader who may not know them."""
    if actor is None or actor.user_id is None or actor.staff_role is not None:
        return None  # staff never claim an account (S31); anonymous readers learn nothing
    with uow:
        account = repository.account_by_name(uow.session, account_name.strip().lower())
        user = uow.session.get(User, actor.user_id)
        if account is None or user is None:
            return None
        verified = user.email_verified_at is not None
        can_redeem = verified and claimant_on_verified_domain(account, user.email)
        member = repository.membership(uow.session, account.id, user.id) is not None
        if not (member or can_redeem):
            return None
        codes = recovery_code_status(uow, account)
        executives = contacts_on_record(
            account,
            now=uow.clock.now(),
            min_age=uow.settings.access_contact_min_age,
            kind=ContactKind.EXECUTIVE,
        )
        return RecoveryPaths(
            account_name=account.name,
            display_name=account.display_name,
            codes_left=codes[0] if codes else 0,
            can_redeem=can_redeem,
            executives=tuple((c.name, c.title) for c in executives),
            verified_domains=tuple(
                sorted(d.domain for d in account.domains if d.verified_at is not None)
            ),
        )
