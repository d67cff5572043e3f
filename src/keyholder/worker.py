"""Background jobs: whatever is due, run by ``keyholder worker`` or inside the app.

Every job is idempotent and safe with several processes (each one locks
what it works on and re-checks it), so any number of workers and app
processes may run the loop side by side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from keyholder.access.execution import execute_due
from keyholder.access.prescreen_job import prescreen_due
from keyholder.access.retention import purge_due
from keyholder.accounts.continuity import remind_single_admins
from keyholder.audit.checkpoints import Checkpoint
from keyholder.bootstrap import Runtime
from keyholder.webhooks.delivery import deliver_due
from keyholder.webhooks.streams import stream_audit

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class JobsResult:
    executed: int = 0
    prescreened: int = 0
    checkpointed: int = 0
    reminded: int = 0
    purged: int = 0
    webhooks_delivered: int = 0
    audit_streamed: int = 0


def checkpoint_audit_chain(runtime: Runtime) -> Checkpoint | None:
    """Anchor the audit chain's head outside the database if it moved (S36)."""
    writer = runtime.audit_checkpoints
    return writer.write_due() if writer is not None else None


def run_jobs_once(runtime: Runtime) -> JobsResult:
    """Run each job once over what is due now.

    A job that fails does not hold up the jobs after it: a letter that crashes
    the pre-screen must not stop grants, purges, webhooks or the audit anchor
    for as long as it stays due. Every job runs; then the first failure is
    raised, so the loop logs it and ``worker --once`` exits non-zero.
    """
    jobs = _Jobs()
    executed = jobs.run("access requests due", lambda: execute_due(runtime.uow), 0)
    prescreened = jobs.run(
        "letter pre-screens",
        lambda: prescreen_due(runtime.uow, screener=runtime.letter_screener),
        0,
    )
    reminded = jobs.run("single-admin reminders", lambda: _remind_if_due(runtime), 0)
    purged = jobs.run("retention purge", lambda: purge_due(runtime.uow), 0)
    # After the jobs above, so what they recorded goes out in this run too.
    webhooks = jobs.run(
        "webhooks", lambda: deliver_due(runtime.uow, runtime.webhook_transport).delivered, 0
    )
    streamed = jobs.run(
        "audit stream", lambda: stream_audit(runtime.uow, runtime.audit_stream_sinks), 0
    )
    # Last: anchors what the jobs recorded.
    checkpoint = jobs.run("audit checkpoint", lambda: checkpoint_audit_chain(runtime), None)
    jobs.raise_first()
    return JobsResult(
        executed,
        prescreened,
        checkpointed=int(checkpoint is not None),
        reminded=reminded,
        purged=purged,
        webhooks_delivered=webhooks,
        audit_streamed=streamed,
    )


# The single-admin reminders come every few weeks per account, but finding the
# accounts due scans every admin membership (0.5 s of CPU for 10,000 accounts):
# a sweep an hour per process, and the next pass at once while a full page of
# reminders shows that more are waiting.
REMINDER_SWEEP_EVERY = timedelta(hours=1)
REMINDER_PAGE = 100


def _remind_if_due(runtime: Runtime) -> int:
    now = runtime.clock.now()
    last = runtime.last_sweeps.get("reminders")
    if last is not None and now - last < REMINDER_SWEEP_EVERY:
        return 0
    sent = remind_single_admins(runtime.uow, limit=REMINDER_PAGE)
    if sent < REMINDER_PAGE:
        runtime.last_sweeps["reminders"] = now
    return sent


class _Jobs:
    """Runs jobs one after another, keeping the first failure for the end."""

    def __init__(self) -> None:
        self._first_failure: Exception | None = None

    def run(self, name: str, job: Callable[[], T], if_failed: T) -> T:
        try:
            return job()
        except Exception as exc:
            if self._first_failure is None:
                self._first_failure = exc
            else:  # the first one is raised (and logged) at the end
                log.exception("background job failed: %s", name)
            return if_failed

    def raise_first(self) -> None:
        if self._first_failure is not None:
            raise self._first_failure


def run_jobs_forever(runtime: Runtime, stop: threading.Event, *, interval: float) -> None:
    """Run the jobs every ``interval`` seconds until ``stop`` is set; a failing run is logged."""
    while not stop.is_set():
        try:
            run_jobs_once(runtime)
        except Exception:
            log.exception("background jobs failed; retrying in %.0f s", interval)
        stop.wait(interval)
