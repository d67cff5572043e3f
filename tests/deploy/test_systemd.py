"""deploy/systemd: `systemd-analyze verify` on each unit, and each command run for real."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import assert_cli_accepts

UNITS = ("keyholder.service", "keyholder-worker.service", "keyholder-mail.service")
INSTALLED = "/opt/keyholder/bin/keyholder"


def unit(deploy: Path, name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((deploy / "systemd" / name).read_text())
    return parser


def commands(deploy: Path, name: str) -> list[list[str]]:
    service = unit(deploy, name)["Service"]
    found = []
    for key in ("ExecStartPre", "ExecStart"):
        if key in service:
            program, *args = shlex.split(service[key])
            assert program == INSTALLED
            found.append(args)
    return found


def test_systemd_analyze_verify(deploy: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    # verify checks that each command exists: point them at this environment's CLI.
    here = str(Path(sys.executable).with_name("keyholder"))
    if not Path(here).exists():
        pytest.skip("the keyholder script is not installed beside this Python")
    for name in UNITS:
        text = (deploy / "systemd" / name).read_text().replace(INSTALLED, here)
        (tmp_path / name).write_text(text)
    result = subprocess.run(  # noqa: S603
        [analyze, "verify", "--man=no", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        check=False,
    )
    ours = [
        line
        for line in result.stderr.splitlines()
        if str(tmp_path) in line or any(n in line for n in UNITS)
    ]
    assert result.returncode == 0, result.stderr
    assert ours == []  # unknown keys and bad values are only warned about


@pytest.mark.parametrize("name", UNITS)
def test_each_command_is_one_the_cli_has(deploy: Path, name: str) -> None:
    for args in commands(deploy, name):
        assert_cli_accepts(args)


@pytest.mark.parametrize("name", UNITS)
def test_hardened(deploy: Path, name: str) -> None:
    service = unit(deploy, name)["Service"]
    assert service["User"] == "keyholder"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["CapabilityBoundingSet"] == ""
    assert service["PrivateTmp"] == "yes"
