"""The installed ``keyholder`` script and ``python -m keyholder``, as real processes.

These build their Runtime from the environment, as an operator's shell does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(args: list[str], cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
    env.update({f"KEYHOLDER_{name.upper()}": value for name, value in settings.items()})
    # cwd is a fresh directory, so no stray .env file is read.
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def development_db(tmp_path: Path) -> dict[str, str]:
    return {"env": "development", "database_url": f"sqlite:///{tmp_path / 'x.db'}"}


def test_python_m_keyholder_help(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "keyholder", "--help"], tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Usage: " in result.stdout
    for group in ("accounts", "members", "users", "audit", "db", "demo"):
        assert group in result.stdout


def test_console_script_on_a_fresh_database(tmp_path: Path, development_db: dict[str, str]) -> None:
    keyholder = str(BIN / "keyholder")

    upgraded = run([keyholder, "db", "upgrade"], tmp_path, **development_db)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("database at revision ")
    created = run(
        [keyholder, "accounts", "create", "acme-corp", "--contract", "ENT-2024-001234"],
        tmp_path,
        **development_db,
    )
    assert created.returncode == 0, created.stderr
    listed = run([keyholder, "accounts", "list", "--json"], tmp_path, **development_db)

    assert listed.returncode == 0, listed.stderr
    assert [a["name"] for a in json.loads(listed.stdout)] == ["acme-corp"]
    assert (tmp_path / "x.db").is_file()


def test_python_m_keyholder_reports_errors_in_one_line(
    tmp_path: Path, development_db: dict[str, str]
) -> None:
    result = run(
        [sys.executable, "-m", "keyholder", "accounts", "show", "nope"], tmp_path, **development_db
    )

    # A database nobody migrated yet: one line that says what to do, not a traceback.
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: the database schema is not current")
    assert "run `keyholder db upgrade`" in result.stderr


def test_production_without_secret_key_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run(
        [str(BIN / "keyholder"), "accounts", "list", "--json"],
        tmp_path,
        env="production",
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: configuration: KEYHOLDER_SECRET_KEY must be set to a private random value "
        "unless KEYHOLDER_ENV=development"
    ]
    assert not (tmp_path / "x.db").exists()  # refused before touching any database
