"""Background jobs: whatever is due, run by ``keyholder worker`` or inside the app.

Every job is idempotent and safe with several processes (each one locks
what it works on and re-checks it), so any number of workers and app
processes may run the loop side by side.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from keyholder.access.execution import execute_due
from keyholder.access.prescreen_job import prescreen_due
from keyholder.access.retention import purge_due
from keyholder.accounts.continuity import remind_single_admins
from keyholder.audit.checkpoints import Checkpoint
from keyholder.bootstrap import Runtime
from keyholder.webhooks.delivery import deliver_due
from keyholder.webhooks.streams import stream_audit

log = logging.getLogger(__name__)


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
    """Run each job once over what is due now."""
    executed, prescreened = (
        execute_due(runtime.uow),
        prescreen_due(runtime.uow, screener=runtime.letter_screener),
    )
    reminded = remind_single_admins(runtime.uow)
    purged = purge_due(runtime.uow)
    # After the jobs above, so what they recorded goes out in this run too.
    webhooks = deliver_due(runtime.uow, runtime.webhook_transport)
    streamed = stream_audit(runtime.uow, runtime.audit_stream_sinks)
    checkpoint = checkpoint_audit_chain(runtime)  # last: anchors what the jobs recorded
    return JobsResult(
        executed,
        prescreened,
        checkpointed=int(checkpoint is not None),
        reminded=reminded,
        purged=purged,
        webhooks_delivered=webhooks.delivered,
        audit_streamed=streamed,
    )


def run_jobs_forever(runtime: Runtime, stop: threading.Event, *, interval: float) -> None:
    """Run the jobs every ``interval`` seconds until ``stop`` is set; a failing run is logged."""
    while not stop.is_set():
        try:
            run_jobs_once(runtime)
        except Exception:
            log.exception("background jobs failed; retrying in %.0f s", interval)
        stop.wait(interval)
