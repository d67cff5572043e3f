"""deploy/compose.yaml: valid by the Compose Specification's schema, and its commands exist.

The schema ships in tests/data (no network at test time); see tests/data/README.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from keyholder.config import Settings
from tests.deploy.conftest import assert_cli_accepts

KEYHOLDER_SERVICES = ("app", "worker", "mail")


@pytest.fixture(scope="module")
def compose(deploy: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((deploy / "compose.yaml").read_text())
    return document


def test_valid_by_the_compose_specification(compose: dict[str, Any], repo_root: Path) -> None:
    schema = json.loads((repo_root / "tests/data/compose-spec.json").read_text())
    errors = [
        f"{e.instance_path}: {e.message}"
        for e in jsonschema_rs.validator_for(schema).iter_errors(compose)
    ]
    assert errors == []


def test_the_schema_check_catches_a_mistake(compose: dict[str, Any], repo_root: Path) -> None:
    schema = json.loads((repo_root / "tests/data/compose-spec.json").read_text())
    broken = {
        **compose,
        "services": {
            **compose["services"],
            "app": {**compose["services"]["app"], "port": ["8000"]},
        },
    }
    assert not jsonschema_rs.validator_for(schema).is_valid(broken)


def test_has_what_it_takes_to_try_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {*KEYHOLDER_SERVICES, "postgres", "redis", "mailpit"}
    app = services["app"]
    assert app["environment"]["KEYHOLDER_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert app["environment"]["KEYHOLDER_REDIS_URL"].startswith("redis://redis:")
    assert services["worker"]["depends_on"]["app"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", KEYHOLDER_SERVICES)
def test_each_command_is_one_the_cli_has(compose: dict[str, Any], service: str) -> None:
    assert_cli_accepts(compose["services"][service]["command"])


def test_its_settings_are_settings(deploy: Path, compose: dict[str, Any]) -> None:
    """Every KEYHOLDER_ variable names a setting (a typo would be ignored silently)."""
    fields = {f"KEYHOLDER_{name.upper()}" for name in Settings.model_fields}
    names = set(compose["services"]["app"]["environment"])
    for entry in compose["services"]["app"]["env_file"]:
        path = deploy / entry["path"]
        if entry.get("required", True):
            assert path.exists(), path
        if path.exists():
            for line in path.read_text().splitlines():
                if line and not line.startswith("#"):
                    names.add(line.split("=", 1)[0])
    keyholder = {n for n in names if n.startswith("KEYHOLDER_")}
    assert keyholder
    assert sorted(keyholder - fields) == []
