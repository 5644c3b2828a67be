"""The contracts a partner reads: as served, equal to the snapshots in docs/contracts/ (so a change
shows in review), the AsyncAPI ones accepted by the official AsyncAPI parser, and stable
operation ids. `make contracts` rewrites the snapshots after a deliberate change."""

from __future__ import annotations

import importlib
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "validators"


def _snapshot_module():
    spec = importlib.util.spec_from_file_location("contract_snapshots", TOOLS / "snapshot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


snapshots = _snapshot_module()


@pytest.fixture(scope="module", params=snapshots.SERVICES)
def served(request, monkeypatch_module):
    monkeypatch_module.setenv("POINTS_ENVIRONMENT", "embedded")
    return request.param, snapshots.served(request.param)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_the_served_documents_equal_their_snapshots(served):
    service, docs = served
    for kind, doc in docs.items():
        path = snapshots.snapshot_path(service, kind)
        assert path.exists(), f"{path} missing: run `make contracts`"
        assert json.loads(path.read_text(encoding="utf-8")) == doc, (
            f"{service}'s {kind} document differs from {path.relative_to(ROOT)}: review the change, "
            "then `make contracts` to record it"
        )


def test_operation_ids_are_the_route_names_and_unique(served):
    service, docs = served
    ids = [op["operationId"] for item in docs["openapi"]["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), f"{service}: operation ids repeat"
    assert all(i.isidentifier() and i == i.lower() for i in ids), ids
    assert "read_application" in ids or service != "intake"


def test_the_asyncapi_documents_pass_the_official_parser():
    node_modules = TOOLS / "node_modules" / "@asyncapi" / "parser"
    assert node_modules.exists(), "the AsyncAPI parser is not installed: `make validators` (npm ci)"
    node = shutil.which("node")
    assert node, "node (20+) is needed to run the official AsyncAPI parser"
    files = sorted(str(p) for p in snapshots.SNAPSHOTS.glob("*.asyncapi.json"))
    assert len(files) == len(snapshots.SERVICES)
    result = subprocess.run(
        [node, str(TOOLS / "asyncapi.mjs"), *files], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("valid AsyncAPI 3.0.0") == len(files)


def test_the_parser_check_can_fail(tmp_path):
    """A payload reference that does not resolve (the old `$defs` fault) is rejected."""
    doc = json.loads(snapshots.snapshot_path("intake", "asyncapi").read_text(encoding="utf-8"))
    message = next(iter(doc["components"]["messages"].values()))
    message["payload"] = {"$ref": "#/$defs/Holder"}
    broken = tmp_path / "broken.asyncapi.json"
    broken.write_text(json.dumps(doc), encoding="utf-8")
    result = subprocess.run(
        [shutil.which("node") or "node", str(TOOLS / "asyncapi.mjs"), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 1 and "invalid-ref" in result.stdout, result.stdout


def test_docs_are_served_from_the_package_not_a_cdn(monkeypatch):
    from fastapi.testclient import TestClient

    monkeypatch.setenv("POINTS_ENVIRONMENT", "embedded")
    client = TestClient(importlib.import_module("services.intake.app").app)
    page = client.get("/docs")
    assert page.status_code == 200 and "cdn" not in page.text.lower()
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/docs/assets/{asset}").status_code == 200
    redoc = client.get("/redoc")
    assert redoc.status_code == 200 and "/docs/assets/redoc.standalone.js" in redoc.text
    assert client.get("/docs/assets/redoc.standalone.js").status_code == 200
