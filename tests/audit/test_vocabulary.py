"""The audit log's vocabulary: typed actions, and targets built in ``audit.targets`` only.

An account's history finds events by target prefix, so a target spelt by hand
in one service hides its events; mypy rejects an action that is not an
``AuditAction``, and this test rejects a target that is a literal or an f-string.
"""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

import keyholder
from keyholder.audit.actions import AuditAction
from keyholder.audit.targets import inside_account_prefix, invitation_target, member_target

SOURCE = Path(keyholder.__file__).parent


def record_event_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "record_event"
            ):
                calls.append((f"{path.relative_to(SOURCE)}:{node.lineno}", node))
    return calls


def test_every_target_is_built_by_audit_targets() -> None:
    calls = record_event_calls()
    assert len(calls) > 40  # the scan found the services
    spelt = [
        where
        for where, call in calls
        for keyword in call.keywords
        if keyword.arg == "target" and isinstance(keyword.value, (ast.Constant, ast.JoinedStr))
    ]
    assert spelt == []


def test_every_action_is_a_kind_and_a_verb_once() -> None:
    # Two names with one value would make the second an alias, silently.
    assert len(AuditAction.__members__) == len(list(AuditAction))
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", action.value) for action in AuditAction)


def test_member_and_invitation_targets_fall_under_their_accounts_prefix() -> None:
    """What ``accounts.history`` relies on to find them."""
    prefix = inside_account_prefix("acme-corp")
    assert member_target("acme-corp", "a@acme.example") == f"{prefix}member:a@acme.example"
    assert invitation_target("acme-corp", uuid.UUID(int=1)).startswith(prefix)
