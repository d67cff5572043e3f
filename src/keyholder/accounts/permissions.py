"""The one place that knows the permission names and what they mean."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Dialect, String, literal
from sqlalchemy.types import TypeDecorator

from keyholder.errors import UnknownPermission


class Permission(StrEnum):
    VIEW = "view"
    CREATE = "create"
    MANAGE = "manage"  # an account admin: changes members
    BILLING = "billing"


ADMIN_PERMISSION = Permission.MANAGE
_ORDER = {permission: index for index, permission in enumerate(Permission)}

PermissionSet = frozenset[Permission]


def parse_permissions(names: Iterable[str]) -> PermissionSet:
    """Validate names; ``view`` is always implied."""
    names = [name.strip().lower() for name in names if name.strip()]
    valid = {p.value for p in Permission}
    unknown = {name for name in names if name not in valid}
    if unknown:
        raise UnknownPermission(unknown, valid=[p.value for p in Permission])
    return frozenset({Permission.VIEW, *(Permission(name) for name in names)})


def ordered(permissions: Iterable[Permission]) -> list[Permission]:
    return sorted(set(permissions), key=_ORDER.__getitem__)


class PermissionSetType(TypeDecorator[PermissionSet]):
    """Stored as ``view,create,manage`` (canonical order) in one column."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: PermissionSet | None, dialect: Dialect) -> Any:
        return None if value is None else ",".join(ordered(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> PermissionSet | None:
        if value is None:
            return None
        return frozenset(Permission(name) for name in str(value).split(",") if name)


def grants(column: Any, permission: Permission) -> ColumnElement[bool]:
    """SQL test that a stored permission set contains ``permission``.

    Bounding both sides with commas makes the match exact whatever the order.
    """
    bounded = literal(",").concat(column.cast(String)).concat(",")
    return bounded.like(f"%,{permission.value},%")
