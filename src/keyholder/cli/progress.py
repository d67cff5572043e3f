"""Progress bars for long runs, on a terminal only (``rich``, imported when one is shown)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

# Below this many steps a run is quick enough that a bar would only flicker.
LONG_RUN_STEPS = 200


class Advance(Protocol):
    def __call__(self, steps: int = 1, /) -> None:
        """Move the bar on by ``steps``."""


@contextmanager
def progress_bar(
    description: str, total: int, *, long_run: int = LONG_RUN_STEPS
) -> Iterator[Advance | None]:
    """A callback that advances a bar on stderr (by one step), or None when no bar is shown.

    Shown only when stderr is a terminal and the run has more than
    ``long_run`` steps (fewer when each step is slow): never in a pipe, a log, a
    test's captured output, nor in the way of ``--json`` on stdout. The bar
    disappears when done.
    """
    if total <= long_run or not sys.stderr.isatty():
        yield None
        return
    # Imported here: rich is needed only by a long run on a terminal (issue 16: fast start).
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import Progress  # noqa: PLC0415

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda steps=1: progress.advance(task, steps)
