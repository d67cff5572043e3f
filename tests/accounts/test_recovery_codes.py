"""Generating an account's break-glass recovery codes (accounts.recovery_codes, issue 18)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from keyholder.accounts.models import AccountRecoveryCode, EnterpriseAccount
from keyholder.accounts.recovery_codes import (
    RECOVERY_CODE_COUNT,
    generate_recovery_codes,
    hash_recovery_code,
    recovery_code_status,
    spend_recovery_code,
)
from keyholder.audit.models import AuditEvent
from keyholder.errors import NotFound, PermissionDenied
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole

CODE_SHAPE = re.compile(r"^[0-9a-f]{4}(-[0-9a-f]{4}){5}$")


@pytest.fixture
def acme(factories) -> EnterpriseAccount:
    return factories.account(
        "acme-corp", domains=["acme.example"], executive_email="ceo@acme.example"
    )


def generate(runtime, factories, user, account="acme-corp"):
    return generate_recovery_codes(runtime.uow(), account, actor=factories.actor(user))


def stored(runtime) -> list[AccountRecoveryCode]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(AccountRecoveryCode)))


class TestGenerate:
    def test_ten_codes_of_96_random_bits_only_their_hashes_kept_s6(self, runtime, factories, acme):
        admin = factories.admin_of(acme, "admin@acme.example")

        codes = generate(runtime, factories, admin)

        assert len(codes) == len(set(codes)) == RECOVERY_CODE_COUNT
        assert all(CODE_SHAPE.match(code) for code in codes)
        rows = stored(runtime)
        assert {r.code_hash for r in rows} == {hash_recovery_code(c) for c in codes}
        assert not any(code.replace("-", "") in r.code_hash for r in rows for code in codes)

    def test_regenerating_voids_the_old_set(self, runtime, factories, acme):
        admin = factories.admin_of(acme, "admin@acme.example")
        old = generate(runtime, factories, admin)

        new = generate(runtime, factories, admin)

        assert not set(old) & set(new)
        assert {r.code_hash for r in stored(runtime)} == {hash_recovery_code(c) for c in new}
        with runtime.uow() as uow:
            account = uow.session.get(EnterpriseAccount, acme.id)
            user_id = admin.id
            assert spend_recovery_code(uow, account, old[0], user_id=user_id) is None
            assert spend_recovery_code(uow, account, new[0], user_id=user_id) is not None

    def test_audited_and_told_to_every_admin_and_contact_without_the_codes(
        self, runtime, factories, acme, outbox
    ):
        admin = factories.admin_of(acme, "admin@acme.example")
        other = factories.admin_of(acme, "other.admin@acme.example")
        factories.member(acme, factories.user("viewer@acme.example"))

        codes = generate(runtime, factories, admin)

        (email,) = outbox.of_kind("account_recovery_codes_generated")
        assert sorted(email.recipients) == sorted([admin.email, other.email, "ceo@acme.example"])
        assert "admin@acme.example generated 10 new" in email.body
        assert not any(code in email.body for code in codes)
        with runtime.uow(read_only=True) as uow:
            (event,) = uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "account.recovery_codes_generate")
            )
        assert event.target == "account:acme-corp"
        assert event.actor == admin.email

    def test_a_member_without_manage_is_refused(self, runtime, factories, acme):
        viewer = factories.user("viewer@acme.example")
        factories.member(acme, viewer)

        with pytest.raises(PermissionDenied):
            generate(runtime, factories, viewer)
        assert stored(runtime) == []

    def test_a_stranger_gets_404_as_for_a_missing_account(self, runtime, factories, acme):
        with pytest.raises(NotFound):
            generate(runtime, factories, factories.user("someone@else.example"))

    def test_staff_never_generate_them_not_even_platform_admins(self, runtime, factories, acme):
        staff_admin = factories.staff("root@keyholder-staff.example", role=StaffRole.ADMIN)

        with pytest.raises(PermissionDenied, match="staff never see them"):
            generate(runtime, factories, staff_admin)
        with pytest.raises(PermissionDenied):
            generate_recovery_codes(runtime.uow(), "acme-corp", actor=Actor.operator("cli"))
        assert stored(runtime) == []


class TestStatus:
    def test_none_before_any_then_codes_left_and_when(self, runtime, factories, acme, clock):
        admin = factories.admin_of(acme, "admin@acme.example")
        with runtime.uow(read_only=True) as uow:
            assert recovery_code_status(uow, uow.session.get(EnterpriseAccount, acme.id)) is None

        codes = generate(runtime, factories, admin)
        with runtime.uow() as uow:
            account = uow.session.get(EnterpriseAccount, acme.id)
            spend_recovery_code(uow, account, codes[0], user_id=admin.id)
            uow.commit()

        with runtime.uow(read_only=True) as uow:
            status = recovery_code_status(uow, uow.session.get(EnterpriseAccount, acme.id))
        assert status == (RECOVERY_CODE_COUNT - 1, clock.now())


class TestSpend:
    def test_once_only_and_typed_back_loosely(self, runtime, factories, acme):
        admin = factories.admin_of(acme, "admin@acme.example")
        code = generate(runtime, factories, admin)[0]

        with runtime.uow() as uow:
            account = uow.session.get(EnterpriseAccount, acme.id)
            typed = f"  {code.upper().replace('-', ' ')} "
            assert spend_recovery_code(uow, account, typed, user_id=admin.id) is not None
            assert spend_recovery_code(uow, account, code, user_id=admin.id) is None
            uow.commit()

    def test_a_code_of_another_account_does_not_work(self, runtime, factories, acme):
        admin = factories.admin_of(acme, "admin@acme.example")
        code = generate(runtime, factories, admin)[0]
        globex = factories.account("globex", domains=["globex.example"])

        with runtime.uow() as uow:
            other = uow.session.get(EnterpriseAccount, globex.id)
            assert spend_recovery_code(uow, other, code, user_id=admin.id) is None
