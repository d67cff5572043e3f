"""Progress bars for long runs, on a terminal only (``rich``, imported when one is shown)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Below this many steps a run is quick enough that a bar would only flicker.
LONG_RUN_STEPS = 200


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[], None] | None]:
    """A callback that advances a bar on stderr by one step, or None when no bar is shown.

    Shown only when stderr is a terminal and the run has more than
    ``LONG_RUN_STEPS`` steps: never in a pipe, a log, a test's captured output,
    nor in the way of ``--json`` on stdout. The bar disappears when done.
    """
    if total <= LONG_RUN_STEPS or not sys.stderr.isatty():
        yield None
        return
    # Imported here: rich is needed only by a long run on a terminal (issue 16: fast start).
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import Progress  # noqa: PLC0415

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)
