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
from keyholder.bootstrap import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobsResult:
    executed: int = 0
    prescreened: int = 0


def run_jobs_once(runtime: Runtime) -> JobsResult:
    """Run each job once over what is due now."""
    return JobsResult(executed=execute_due(runtime), prescreened=prescreen_due(runtime))


def run_jobs_forever(runtime: Runtime, stop: threading.Event, *, interval: float) -> None:
    """Run the jobs every ``interval`` seconds until ``stop`` is set; a failing run is logged."""
    while not stop.is_set():
        try:
            run_jobs_once(runtime)
        except Exception:
            log.exception("background jobs failed; retrying in %.0f s", interval)
        stop.wait(interval)
