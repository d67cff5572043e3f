"""The CLI starts without the heavy libraries (issue 16, item 7).

Every operator command used to take 2-7 s because importing the CLI loaded
OpenCV, NumPy, PDFium, FastAPI, Alembic, Redis and more. Those load now in
the commands and functions that use them, and each command group's module
loads only when that group runs. These tests run real processes and look at
``sys.modules`` after the command: no timing, so they hold on a busy machine
(benchmarks/cli_start.py measures the time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from keyholder.cli import COMMANDS, LoadedLater, app

# Loaded only by the commands that need them: letters, serve, mail listen,
# DNS checks, Redis rate limits, migrations, emails, MFA enrolment, demo; and
# argon2 and limits by the hashing pool and the rate limiter, which the
# runtime builds on first use (a sign-in, a password set), not at start.
HEAVY = frozenset(
    {
        "argon2",
        "limits",
        "cv2",
        "numpy",
        "pypdfium2",
        "pytesseract",
        "PIL",
        "rapidfuzz",
        "fastapi",
        "starlette",
        "uvicorn",
        "aiosmtpd",
        "dns",
        "redis",
        "alembic",
        "mako",
        "jinja2",
        "segno",
        "prometheus_client",  # counted on first use (keyholder.metrics), served by serve and worker
    }
)

# Runs the CLI in this process, then prints the top-level packages it loaded.
RUN_AND_LIST_MODULES = """
import json, sys
from keyholder.cli import app
try:
    app(sys.argv[1:], prog_name="keyholder")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def run(args: list[str], cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
    env.update({f"KEYHOLDER_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", RUN_AND_LIST_MODULES, *args],
        cwd=cwd,  # a fresh directory: no stray .env file is read
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def loaded_by(args: list[str], cwd: Path, **settings: str) -> set[str]:
    result = run(args, cwd, **settings)
    last_line = result.stdout.strip().splitlines()[-1]
    outcome = json.loads(last_line)
    assert outcome["code"] == 0, result.stdout + result.stderr
    return set(outcome["modules"])


def test_help_loads_no_heavy_library(tmp_path: Path) -> None:
    loaded = loaded_by(["--help"], tmp_path)

    assert "typer" in loaded  # the probe sees what the command loaded
    assert loaded & HEAVY == set()
    assert "cryptography" not in loaded  # nothing is signed, verified or decrypted
    # No command group is loaded to list them: their names and help come from COMMANDS.
    assert {"sqlalchemy", "pydantic", "pydantic_settings"} & loaded == set()


def test_listed_help_is_each_commands_own() -> None:
    root = typer.main.get_group(app)
    context = typer.Context(root)
    assert root.list_commands(context) == list(COMMANDS)
    for name in COMMANDS:
        listed = root.get_command(context, name)
        assert isinstance(listed, LoadedLater)
        loaded = listed.load()

        assert loaded.name == name
        first_paragraph = " ".join((loaded.help or "").strip().split("\n\n")[0].split())
        assert listed.help == first_paragraph, name


@pytest.mark.parametrize("group", ["members", "access-requests", "letters", "mail", "users"])
def test_group_help_loads_no_heavy_library(tmp_path: Path, group: str) -> None:
    assert loaded_by([group, "--help"], tmp_path) & HEAVY == set()


def test_members_list_loads_no_heavy_library(tmp_path: Path) -> None:
    db = {"env": "development", "database_url": f"sqlite:///{tmp_path / 'x.db'}"}
    assert "alembic" in loaded_by(["db", "upgrade"], tmp_path, **db)  # the probe works
    loaded_by(["accounts", "create", "acme-corp", "--contract", "ENT-2024-001234"], tmp_path, **db)

    loaded = loaded_by(["members", "list", "--account", "acme-corp"], tmp_path, **db)

    assert "sqlalchemy" in loaded
    assert loaded & HEAVY == set()


# The same probe, printing every module's full name.
RUN_AND_LIST_FULL_NAMES = RUN_AND_LIST_MODULES.replace(
    'sorted({m.split(".")[0] for m in sys.modules})', "sorted(sys.modules)"
)


def test_members_list_loads_neither_the_web_package_nor_email_validator(tmp_path: Path) -> None:
    """Issue 16: the CLI prints the slices' models, not the API's, and parses no address here."""
    assert RUN_AND_LIST_FULL_NAMES != RUN_AND_LIST_MODULES
    db = {"env": "development", "database_url": f"sqlite:///{tmp_path / 'x.db'}"}
    loaded_by(["db", "upgrade"], tmp_path, **db)
    loaded_by(["accounts", "create", "acme-corp", "--contract", "ENT-2024-001234"], tmp_path, **db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
    env.update({f"KEYHOLDER_{name.upper()}": value for name, value in db.items()})

    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", RUN_AND_LIST_FULL_NAMES, "members", "list", "-a", "acme-corp"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])

    assert outcome["code"] == 0, result.stdout + result.stderr
    loaded = set(outcome["modules"])
    assert "keyholder.accounts.members" in loaded  # the probe sees the command's modules
    assert not {m for m in loaded if m.startswith("keyholder.web")}
    assert "email_validator" not in loaded
    assert "keyholder.accounts.schemas" not in loaded  # the table needs no pydantic models


def test_members_import_and_export_load_rich_only_for_a_progress_bar(tmp_path: Path) -> None:
    """rich is imported when a bar is shown (a long run on a terminal), not at start."""
    db = {"env": "development", "database_url": f"sqlite:///{tmp_path / 'x.db'}"}
    loaded_by(["db", "upgrade"], tmp_path, **db)
    loaded_by(["accounts", "create", "acme-corp", "--contract", "ENT-2024-001234"], tmp_path, **db)
    members = tmp_path / "members.csv"
    members.write_text("email,permissions\nnew@acme.example,view\n", encoding="utf-8")

    imported = loaded_by(["members", "import", str(members), "-a", "acme-corp"], tmp_path, **db)
    exported = loaded_by(["members", "export", "-a", "acme-corp"], tmp_path, **db)

    assert "email_validator" in imported  # the probe sees what the import loaded
    assert "rich" not in imported | exported
    assert (imported | exported) & HEAVY - {"jinja2"} == set()  # jinja2: the invitation email
