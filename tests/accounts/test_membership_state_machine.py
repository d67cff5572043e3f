"""Stateful property test: member changes against a model of the rules.

Whatever sequence of adds, changes and removals is tried, the account keeps at
least one admin, the database agrees with the model, and every refusal is the
one the rules call for.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from keyholder.accounts import members
from keyholder.accounts.permissions import Permission, parse_permissions
from keyholder.errors import AlreadyExists, LastAdminError, NotFound
from tests.factories import OPERATOR

PEOPLE = 4
permission_lists = st.lists(st.sampled_from([p.value for p in Permission]), max_size=4)


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

        @rule(who=st.integers(0, PEOPLE - 1), names=permission_lists)
        def change(self, who, names):
            email, wanted = self.emails[who], parse_permissions(names)
            after = {**self.model, email: wanted}
            try:
                members.set_member_permissions(
                    runtime.uow(), self.account, email, names, actor=OPERATOR
                )
            except NotFound:
                assert email not in self.model
            except LastAdminError:
                assert email in self.model
                assert not self.admins(after)
            else:
                assert email in self.model
                assert self.admins(after)
                self.model = after

        @rule(who=st.integers(0, PEOPLE - 1))
        def remove(self, who):
            email = self.emails[who]
            after = {e: p for e, p in self.model.items() if e != email}
            try:
                members.remove_member(runtime.uow(), self.account, email, actor=OPERATOR)
            except NotFound:
                assert email not in self.model
            except LastAdminError:
                assert email in self.model
                assert not self.admins(after)
            else:
                assert email in self.model
                self.model = after

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
