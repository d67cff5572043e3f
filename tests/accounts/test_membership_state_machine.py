"""Stateful property test: member changes against a model of the rules.

Whatever sequence of adds, changes and removals is tried, the account keeps at
least one admin, the database agrees with the model, and every refusal is the
one the rules call for: one of two admins leaves only confirmed, the last one
only for a successor who takes ``manage`` (issue 18).
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from keyholder.accounts import members
from keyholder.accounts.permissions import Permission, parse_permissions
from keyholder.errors import (
    AlreadyExists,
    ConfirmationRequired,
    InvalidInput,
    KeyholderError,
    LastAdminError,
    NotFound,
)
from tests.factories import OPERATOR

PEOPLE = 4
permission_lists = st.lists(st.sampled_from([p.value for p in Permission]), max_size=4)


def refused(use_case, *args, **kwargs):
    """The class of the error ``use_case`` raised, or None when it went through."""
    try:
        use_case(*args, **kwargs)
    except KeyholderError as exc:
        return type(exc)
    return None


def test_member_rules_hold_for_any_sequence(runtime, factories):
    machines = itertools.count()

    class MembershipMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(machines)
            self.account = factories.account(f"sm-{n}").name
            self.emails = [factories.user(f"p{i}.{n}@example.com").email for i in range(PEOPLE)]
            # The model: email -> permission set. Starts with one admin.
            self.model = {self.emails[0]: parse_permissions(["manage"])}
            members.add_member(
                runtime.uow(), self.account, self.emails[0], ["manage"], actor=OPERATOR
            )

        def admins(self, model):
            return [e for e, p in model.items() if Permission.MANAGE in p]

        @rule(who=st.integers(0, PEOPLE - 1), names=permission_lists)
        def add(self, who, names):
            email = self.emails[who]
            try:
                members.add_member(runtime.uow(), self.account, email, names, actor=OPERATOR)
            except AlreadyExists:
                assert email in self.model
            else:
                assert email not in self.model
                self.model[email] = parse_permissions(names)

        def expected_refusal(self, email, losing_manage, confirm, successor):
            """The refusal issue 18's rules call for when ``email`` changes, or None."""
            if email not in self.model:
                return NotFound
            admins = len(self.admins(self.model))
            if not losing_manage or admins > 1:
                if successor is not None:
                    return InvalidInput
                return (
                    ConfirmationRequired if losing_manage and admins == 2 and not confirm else None
                )
            if successor is None:
                return LastAdminError
            if successor not in self.model:
                return NotFound
            return InvalidInput if successor == email else None

        def hand_over(self, model, email, successor):
            if successor is not None and email in self.admins(self.model):
                model[successor] = model[successor] | {Permission.MANAGE}
            return model

        @rule(
            who=st.integers(0, PEOPLE - 1),
            names=permission_lists,
            confirm=st.booleans(),
            heir=st.none() | st.integers(0, PEOPLE - 1),
        )
        def change(self, who, names, confirm, heir):
            email, wanted = self.emails[who], parse_permissions(names)
            successor = None if heir is None else self.emails[heir]
            before = self.model.get(email)
            if before == wanted:
                expected = None  # nothing to change: nothing checked
            else:
                losing = before is not None and Permission.MANAGE not in wanted
                losing = losing and Permission.MANAGE in before
                expected = self.expected_refusal(email, losing, confirm, successor)
            refusal = refused(
                members.set_member_permissions,
                runtime.uow(),
                self.account,
                email,
                names,
                actor=OPERATOR,
                confirm=confirm,
                successor=successor,
            )
            assert refusal is expected
            if refusal is None and before != wanted:
                self.model = self.hand_over({**self.model, email: wanted}, email, successor)

        @rule(
            who=st.integers(0, PEOPLE - 1),
            confirm=st.booleans(),
            heir=st.none() | st.integers(0, PEOPLE - 1),
        )
        def remove(self, who, confirm, heir):
            email = self.emails[who]
            successor = None if heir is None else self.emails[heir]
            losing = Permission.MANAGE in self.model.get(email, frozenset())
            expected = self.expected_refusal(email, losing, confirm, successor)
            refusal = refused(
                members.remove_member,
                runtime.uow(),
                self.account,
                email,
                actor=OPERATOR,
                confirm=confirm,
                successor=successor,
            )
            assert refusal is expected
            if refusal is None:
                after = self.hand_over(dict(self.model), email, successor)
                self.model = {e: p for e, p in after.items() if e != email}

        @invariant()
        def database_matches_the_model_and_an_admin_remains(self):
            stored = {
                m.user.email: m.permissions
                for m in members.list_members(runtime.uow(), self.account, actor=OPERATOR)
            }
            assert stored == self.model
            assert self.admins(stored)

    run_state_machine_as_test(
        MembershipMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
