"""Each service's OpenAPI document declares what the service really answers: key schemes, and every
error as a problem document (the fuzz tests then hold the running services to it)."""

from __future__ import annotations

import importlib

import pytest

from shared.problems import PROBLEM_JSON

SERVICES = ["intake", "verification", "scoring", "publicity"]
OPERATIONS_TAG = "operations"


@pytest.fixture(scope="module", params=SERVICES)
def document(request, monkeypatch_module):
    monkeypatch_module.setenv("POINTS_ENVIRONMENT", "embedded")
    app = importlib.import_module(f"services.{request.param}.app").app
    return request.param, app.openapi()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if OPERATIONS_TAG not in op.get("tags", []):
                yield path, method, op


def test_every_error_is_declared_as_a_problem_document(document):
    service, doc = document
    assert doc["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    for path, method, op in _operations(doc):
        for status in ("400", "404", "413", "415", "422", "429", "503"):
            content = op["responses"][status]["content"]
            assert PROBLEM_JSON in content, f"{service} {method.upper()} {path}: {status} is not a problem document"


def test_every_route_that_takes_a_key_says_so(document):
    service, doc = document
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": schemes["bearer"]["description"]}
    assert schemes["apiKey"]["name"] == "X-API-Key"
    keyed = [(p, m, op) for p, m, op in _operations(doc) if "security" in op]
    assert keyed, f"{service}: no route takes a key?"
    for path, method, op in keyed:
        assert {"401", "403"} <= set(op["responses"]), f"{service} {method.upper()} {path}: 401/403 undeclared"
    # FastAPI's own JSON 422 shape is gone: the services never answer with it.
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_public_routes_are_the_ones_meant_to_be_public(document):
    service, doc = document
    public = {(m.upper(), p) for p, m, op in _operations(doc) if "security" not in op}
    expected = {
        "intake": set(),
        "verification": set(),
        "scoring": {
            ("GET", "/v1/rule-sets"),
            ("GET", "/v1/rule-sets/{rule_set_id}"),
            ("GET", "/v1/rule-sets/{rule_set_id}/source"),
            ("GET", "/v1/modules"),
            ("GET", "/v1/modules/{module_id}"),
            ("GET", "/v1/modules/{module_id}/source"),
            ("POST", "/v1/estimate"),  # 模拟积分: nothing identifying asked, nothing kept
        },
        "publicity": {
            ("GET", p)
            for p in (
                "/v1/notices",
                "/v1/notices/{notice_id}",
                "/notices",
                "/notices/{notice_id}",
                "/v1/rounds",
                "/v1/rounds/{round_id}",
                "/v1/rounds/{round_id}/entries",
                "/v1/rounds/{round_id}/entries/{seq}",
                "/v1/rounds/{round_id}/versions",
                "/v1/objections/{objection_id}",
            )
        }
        | {("POST", "/v1/objections")},
    }[service]
    assert public == expected


def _named(schema):
    """Whether a success schema is a named model (or a list of one), not an anonymous object."""
    return "$ref" in schema or "$ref" in schema.get("items", {})


def test_every_success_answer_is_typed(document):
    """A generated client gets a class for every answer, not a bare dict."""
    service, doc = document
    untyped = []
    for path, method, op in _operations(doc):
        for status, response in op["responses"].items():
            json_body = response.get("content", {}).get("application/json")
            if status.startswith("2") and json_body is not None and not _named(json_body.get("schema", {})):
                untyped.append(f"{method.upper()} {path} {status}")
    assert not untyped, f"{service}: success answers without a schema: {untyped}"
    assert any(status.startswith("2") for _, _, op in _operations(doc) for status in op["responses"])
