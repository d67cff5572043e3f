"""The deployment files (deploy/), and the real CLI they call."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="session")
def deploy() -> Path:
    return DEPLOY


def run_cli_help(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``keyholder ARGS --help``: exits 0 only if every command and option in ARGS exists."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
    env["KEYHOLDER_ENV"] = "development"
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "keyholder", *args, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_cli_accepts(command: str | list[str]) -> None:
    args = shlex.split(command) if isinstance(command, str) else command
    result = run_cli_help(args)
    assert result.returncode == 0, f"keyholder {' '.join(args)}: {result.stderr}{result.stdout}"
