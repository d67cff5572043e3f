"""Progress bars: on a terminal, for long runs only (``cli.progress``)."""

from __future__ import annotations

import io

import pytest

from keyholder.cli import progress
from keyholder.cli.progress import LONG_RUN_STEPS, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_run_on_a_terminal_shows_a_bar_that_advances(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(progress.sys, "stderr", terminal)

    with progress_bar("importing", LONG_RUN_STEPS + 1) as advance:
        assert advance is not None
        for _ in range(LONG_RUN_STEPS + 1):
            advance()

    assert "importing" in terminal.getvalue()


def test_a_short_run_shows_none(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(progress.sys, "stderr", terminal)

    with progress_bar("importing", LONG_RUN_STEPS) as advance:
        assert advance is None

    assert terminal.getvalue() == ""


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pipe, a log file, a test's captured output: nothing written there."""
    captured = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", captured)

    with progress_bar("importing", 10 * LONG_RUN_STEPS) as advance:
        assert advance is None

    assert captured.getvalue() == ""
