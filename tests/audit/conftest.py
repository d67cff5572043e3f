"""Runtimes whose audit checkpoints go to a real file (S36)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from keyholder.audit.service import record_event
from keyholder.audit.settings import trusted_public_keys
from keyholder.audit.verify import ChainReport, read_checkpoints, verify_chain
from keyholder.bootstrap import Runtime
from keyholder.identity.actor import Actor

ACTOR = Actor.operator("tests")


@pytest.fixture
def checkpoint_file(tmp_path: Path) -> Path:
    return tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture
def anchored(derive_runtime: Callable[..., Runtime], checkpoint_file: Path) -> Runtime:
    """Like ``runtime``, signing a checkpoint to ``checkpoint_file`` after each commit."""
    return derive_runtime(audit_checkpoint_file=checkpoint_file)


def record(runtime: Runtime, count: int, *, first: int = 1) -> None:
    """``count`` events, one transaction each."""
    for n in range(first, first + count):
        with runtime.uow() as uow:
            record_event(uow, actor=ACTOR, action="test.event", target=f"thing:{n}", after={"n": n})
            uow.commit()


def execute(runtime: Runtime, sql: str, **params: object) -> None:
    """What an attacker with write access to the database can do."""
    with runtime.engine.begin() as connection:
        connection.execute(text(sql), params)


def verify(runtime: Runtime, *files: Path) -> ChainReport:
    """The chain against the checkpoints in ``files``, trusting the runtime's keys."""
    checkpoints = read_checkpoints(files, trusted_public_keys(runtime.settings))
    return verify_chain(runtime.uow(read_only=True), checkpoints=checkpoints)
