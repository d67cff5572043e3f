"""The permission names, their parsing and their storage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyholder.accounts.permissions import Permission, PermissionSetType, parse_permissions
from keyholder.errors import UnknownPermission

NAMES = [p.value for p in Permission]


@given(st.lists(st.sampled_from(NAMES), max_size=8))
def test_view_is_always_implied(names):
    assert Permission.VIEW in parse_permissions(names)
    assert parse_permissions(names) == {Permission.VIEW, *map(Permission, names)}


@given(st.lists(st.sampled_from(NAMES), max_size=8), st.text(min_size=1, max_size=12))
def test_any_unknown_name_is_refused_with_the_valid_list(names, junk):
    junk = junk.strip().lower()
    if not junk or junk in NAMES:
        return
    with pytest.raises(UnknownPermission) as excinfo:
        parse_permissions([*names, junk])
    assert excinfo.value.valid == NAMES


@given(st.frozensets(st.sampled_from(list(Permission))))
def test_storage_round_trips(permissions):
    column = PermissionSetType()
    stored = column.process_bind_param(permissions, dialect=None)  # type: ignore[arg-type]
    assert column.process_result_value(stored, dialect=None) == permissions  # type: ignore[arg-type]


def test_names_are_case_and_space_tolerant():
    assert parse_permissions([" Manage ", "BILLING"]) == {
        Permission.VIEW,
        Permission.MANAGE,
        Permission.BILLING,
    }
