"""The alert rules and dashboards in deploy/monitoring/ are what Prometheus and Grafana accept.

promtool is not available: the rule file is checked against Prometheus's rule-file schema here
(groups of named rules, each an alert or a recording rule with a PromQL expression, durations in
Prometheus's syntax, string labels and annotations). That every metric they use is served is
checked against the running services (tests/integration/test_monitoring.py)."""

from __future__ import annotations

import re

import pytest

from tests.monitoring_files import DASHBOARDS, dashboards, expressions, metric_names, panels, rules

DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
GROUP_KEYS = {"name", "interval", "limit", "rules", "query_offset", "labels"}
ALERT_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
RECORD_KEYS = {"record", "expr", "labels"}
SEVERITIES = {"critical", "warning", "info"}
# The alerts the platform promises (issue 17): a stalled relay, growing lag, dead letters, readiness
# flapping, an open circuit, overdue departments.
PROMISED = {
    "PointsOutboxRelayStalled": "points_outbox_oldest_age_seconds",
    "PointsConsumerLagGrowing": "points_consumer_lag",
    "PointsDeadLetters": "points_dead_letters_total",
    "PointsReadinessFlapping": "points_readiness_changes_total",
    "PointsCircuitBreakerOpen": "points_circuit_breaker_state",
    "PointsDepartmentOverdue": "points_overdue_answers_total",
}


def _balanced(expr: str) -> bool:
    depth = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for ch in re.sub(r'"[^"]*"', "", expr):  # label values may hold anything
        if ch in "([{":
            depth.append(ch)
        elif ch in pairs and (not depth or depth.pop() != pairs[ch]):
            return False
    return not depth


def test_the_rule_file_follows_prometheus_rule_schema():
    doc = rules()
    assert set(doc) == {"groups"} and doc["groups"]
    names = [g["name"] for g in doc["groups"]]
    assert len(names) == len(set(names)), "group names must be unique in a file"
    for group in doc["groups"]:
        assert set(group) <= GROUP_KEYS and isinstance(group["name"], str) and group["rules"], group.get("name")
        if "interval" in group:
            assert DURATION.match(group["interval"])
        for rule in group["rules"]:
            assert ("alert" in rule) != ("record" in rule), rule
            assert set(rule) <= (ALERT_KEYS if "alert" in rule else RECORD_KEYS), rule
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert _balanced(rule["expr"]), rule["expr"]
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    assert DURATION.match(rule[key]), (rule["alert"], rule[key])
            for key in ("labels", "annotations"):
                assert all(isinstance(k, str) and isinstance(v, str) for k, v in rule.get(key, {}).items())


def test_every_alert_says_how_bad_and_what_happened():
    alerts = [r for g in rules()["groups"] for r in g["rules"] if "alert" in r]
    assert len({a["alert"] for a in alerts}) == len(alerts)
    for a in alerts:
        assert a["labels"]["severity"] in SEVERITIES, a["alert"]
        assert a["annotations"]["summary"] and a["annotations"]["description"], a["alert"]


@pytest.mark.parametrize("alert, metric", PROMISED.items())
def test_each_promised_alert_is_there_on_its_metric(alert, metric):
    rule = next((r for g in rules()["groups"] for r in g["rules"] if r.get("alert") == alert), None)
    assert rule is not None, f"no alert {alert}"
    assert metric in metric_names(rule["expr"])


def test_the_dashboards_are_grafana_dashboards_on_a_chosen_prometheus():
    assert len(DASHBOARDS) >= 2
    uids = [d["uid"] for d in dashboards().values()]
    assert len(uids) == len(set(uids))
    for name, d in dashboards().items():
        assert d["title"] and isinstance(d["schemaVersion"], int), name
        # The data source is a variable: the dashboard imports into any Grafana, whatever its source is called.
        assert {v["name"]: v["type"] for v in d["templating"]["list"]}.get("datasource") == "datasource", name
        ids = [p["id"] for p in panels(d)]
        assert len(ids) == len(set(ids)), name
        for p in panels(d):
            g = p["gridPos"]
            assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24 and g["h"] > 0, (name, p["title"])
            if p["type"] == "row":
                continue
            assert p["datasource"]["uid"] == "${datasource}", (name, p["title"])
            assert p["targets"] and all(t["expr"].strip() and _balanced(t["expr"]) for t in p["targets"]), p["title"]


def test_every_expression_reads_a_metric_of_the_platform():
    for where, expr in expressions().items():
        assert metric_names(expr), f"{where}: {expr}"


def test_the_compose_prometheus_scrapes_every_service_and_loads_the_rules_it_mounts():
    from pathlib import Path

    import yaml

    deploy = Path(__file__).resolve().parents[2] / "deploy"
    config = yaml.safe_load((deploy / "monitoring" / "prometheus.yml").read_text(encoding="utf-8"))
    compose = yaml.safe_load((deploy / "compose.yaml").read_text(encoding="utf-8"))
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in config["scrape_configs"]}
    # One job per service, on its operations port, named as the dashboards group them.
    assert jobs == {s: [f"{s}:9000"] for s in ("intake", "verification", "scoring", "publicity")}
    mounts = dict(v.split(":")[1::-1] for v in compose["services"]["prometheus"]["volumes"])
    assert all(mounts.get(path) for path in config["rule_files"]), "a rule file Prometheus loads is not mounted"
    assert mounts["/etc/prometheus/alerts.yaml"] == "./monitoring/alerts.yaml"
