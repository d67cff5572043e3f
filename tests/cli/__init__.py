"""Tests of the ``keyholder`` command, run in-process against the test Runtime."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from keyholder.bootstrap import Runtime
from keyholder.cli import app


class Cli:
    """Runs ``keyholder ARGS…`` with the test Runtime as the context object."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __call__(self, *args: str, input: str | None = None) -> Result:
        # catch_exceptions=False: a crash fails the test with its traceback
        # instead of passing for "a non-zero exit".
        return CliRunner().invoke(
            app, list(args), obj=self.runtime, input=input, catch_exceptions=False
        )

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)


def assert_error(result: Result, *fragments: str, exit_code: int = 1) -> str:
    """The command failed with exactly one ``error: …`` line on stderr; returns it."""
    assert result.exit_code == exit_code, (
        f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    )
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert result.stdout == ""
    return lines[0]
