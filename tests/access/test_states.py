"""The request lifecycle's table (access.states): letters and claims by recovery code (S20)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyholder.access.states import (
    CLAIM_TRANSITIONS,
    FINAL_STATES,
    TRANSITIONS,
    RequestState,
    RequestVia,
    can_move,
    check_move,
)
from keyholder.errors import Conflict

R = RequestState
states = st.sampled_from(list(RequestState))
vias = st.sampled_from(list(RequestVia))


@given(current=states, target=states)
def test_a_claim_may_do_what_a_letter_may_plus_only_starting_its_cooling_off(current, target):
    letter = can_move(current, target, via=RequestVia.LETTER)
    claim = can_move(current, target, via=RequestVia.RECOVERY_CODE)
    if letter:
        assert claim
    if claim and not letter:
        assert (current, target) == (R.SUBMITTED, R.COOLING_OFF)


@given(via=vias, walk=st.lists(states, max_size=12))
def test_a_grant_only_ever_follows_a_cooling_off_and_letters_two_approvals_s20(via, walk):
    """Any legal walk from ``submitted``: executed only from the cooling-off; a letter
    request reaches the cooling-off only from ``approved_once`` (its second approval)."""
    current = R.SUBMITTED
    for target in walk:
        if not can_move(current, target, via=via):
            with pytest.raises(Conflict):
                check_move(current, target, via=via)
            continue
        if target is R.EXECUTED:
            assert current is R.COOLING_OFF
        if target is R.COOLING_OFF and via is RequestVia.LETTER:
            assert current is R.APPROVED_ONCE
        current = target


def test_final_states_are_final_for_both():
    for table in (TRANSITIONS, CLAIM_TRANSITIONS):
        assert {s for s, moves in table.items() if not moves} == FINAL_STATES


def test_a_letter_request_cannot_skip_its_review():
    with pytest.raises(Conflict, match="cannot become cooling_off"):
        check_move(R.SUBMITTED, R.COOLING_OFF)
    check_move(R.SUBMITTED, R.COOLING_OFF, via=RequestVia.RECOVERY_CODE)
