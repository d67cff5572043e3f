"""deploy/prometheus/alerts.yml and deploy/grafana/keyholder.json name only metrics we export.

The exported names come from a real scrape (with a relay heartbeat and an audit
checkpoint, so the series that appear only then are there too): renaming a
metric without its alert or panel fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from keyholder.mail.heartbeat import beat
from keyholder.worker import checkpoint_audit_chain
from tests.factories import Factories

METRIC = re.compile(r"\b(keyholder_[a-z0-9_]+)\b")
REQUIRED_ALERTS = {
    "KeyholderOutboxStuck",
    "KeyholderAuditCheckpointStale",
    "KeyholderAccessGrantExecuted",
    "KeyholderMailRelayHeartbeatMissing",
}


@pytest.fixture(scope="module")
def alerts(deploy: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((deploy / "prometheus/alerts.yml").read_text())
    return document


@pytest.fixture(scope="module")
def dashboard(deploy: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((deploy / "grafana/keyholder.json").read_text())
    return document


@pytest.fixture
def exported(
    client: TestClient, runtime, derive_runtime, factories: Factories, tmp_path
) -> set[str]:
    """Every sample name a scrape gives once everything has happened at least once."""
    factories.account("acme-corp")
    beat(runtime.uow, "relay-1")
    checkpoint_audit_chain(derive_runtime(audit_checkpoint_file=tmp_path / "checkpoints.jsonl"))
    client.get("/healthz")
    text = client.get("/metrics").text
    names = {
        line.split("{")[0].split(" ")[0]
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    # Counters and histograms whose series have no sample until counted once.
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            suffixes = {"counter": ("",), "histogram": ("_bucket", "_count", "_sum")}
            names.update(name + suffix for suffix in suffixes.get(kind, ()))
    return names


def rules(alerts: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in alerts["groups"] for rule in group["rules"]]


def test_alert_rules_are_prometheus_rule_groups(alerts: dict[str, Any]) -> None:
    assert [set(group) >= {"name", "rules"} for group in alerts["groups"]] == [True] * len(
        alerts["groups"]
    )
    for rule in rules(alerts):
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
        assert isinstance(rule["expr"], str)
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
        assert "summary" in rule["annotations"]
    assert {rule["alert"] for rule in rules(alerts)} >= REQUIRED_ALERTS


def test_alerts_use_only_metrics_we_export(alerts: dict[str, Any], exported: set[str]) -> None:
    used = {name for rule in rules(alerts) for name in METRIC.findall(rule["expr"])}
    assert used
    assert sorted(used - exported) == []


def test_dashboard_uses_only_metrics_we_export(
    dashboard: dict[str, Any], exported: set[str]
) -> None:
    expressions = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", ())]
    used = {name for expr in expressions for name in METRIC.findall(expr)}
    assert len(used) >= 10
    assert sorted(used - exported) == []


def test_dashboard_is_importable(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["uid"] == "keyholder"
    assert {i["name"] for i in dashboard["__inputs"]} == {"DS_PROMETHEUS"}
    for panel in dashboard["panels"]:
        for target in panel.get("targets", ()):
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"
