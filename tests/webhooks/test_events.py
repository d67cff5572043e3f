"""The one table of which audit actions are webhook events, and the backoff schedule."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from keyholder.audit.actions import AuditAction
from keyholder.webhooks.delivery import BACKOFF_BASE, BACKOFF_CAP, backoff
from keyholder.webhooks.events import ACTIONS_OF, ALL_EVENT_TYPES, event_type_of, target_ids


class TestEventTypes:
    def test_the_issue_s_event_types_are_all_there(self) -> None:
        wanted = {
            "member.added",
            "member.changed",
            "member.removed",
            "invitation.sent",
            "invitation.accepted",
            "access_request.submitted",
            "access_request.approved",
            "access_request.vetoed",
            "access_request.executed",
            "access_request.rejected",
            "recovery_claim.submitted",
        }
        assert wanted <= ALL_EVENT_TYPES

    @given(st.sampled_from(list(AuditAction)))
    def test_each_action_maps_to_at_most_one_type_and_back(self, action: AuditAction) -> None:
        event_type = event_type_of(action)
        if event_type is not None:
            assert action in ACTIONS_OF[event_type]
            assert event_type.count(".") == 1

    @given(st.text())
    def test_unknown_actions_are_no_event(self, action: str) -> None:
        if action not in {a.value for a in AuditAction}:
            assert event_type_of(action) is None

    def test_target_ids(self) -> None:
        assert target_ids("account:acme/member:a@b.example") == {
            "account": "acme",
            "member": "a@b.example",
        }
        assert target_ids("access_request:1234") == {"access_request": "1234"}


class TestBackoff:
    @given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0))
    def test_jittered_between_half_and_all_of_the_exponential_capped_delay(
        self, failures: int, seed: int
    ) -> None:
        ceiling = min(BACKOFF_BASE * 2 ** min(failures - 1, 30), BACKOFF_CAP)
        delay = backoff(failures, random.Random(seed))
        assert ceiling / 2 <= delay <= ceiling

    @given(st.integers(min_value=1, max_value=60))
    def test_never_shorter_than_the_previous_step_s_floor(self, failures: int) -> None:
        low = backoff(failures, _Fixed(0.0))
        assert backoff(failures + 1, _Fixed(0.0)) >= low
        assert backoff(failures, _Fixed(0.999)) <= BACKOFF_CAP
        assert low >= BACKOFF_BASE / 2 > timedelta(0)


class _Fixed(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value
