"""A partner's client, generated from the OpenAPI documents the services serve, walks the README's road.

The clients are generated in the test run (openapi-python-client, a maintained generator, as a
partner would run it) from each running service's `/openapi.json`, into a temporary directory: so
what is proved is always the contract served now, and no generated code sits in the repository to
drift from it or to be reviewed by hand. The road: submit an application, follow it to its score
and notice, read the explanation, object to the notice; each answer arrives as a typed model,
and each refusal as a typed `Problem` naming what was wrong.
"""

from __future__ import annotations

import datetime
import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from shared.demo import demo_key
from tests.integration.helpers import application_body, wait_for

pytestmark = pytest.mark.integration

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
# Objections are limited per client address: this module lodges its own from an address of its own.
OBJECTOR_ADDRESS = "127.0.0.21"


@pytest.fixture(scope="module")
def clients(platform, tmp_path_factory) -> dict[str, ModuleType]:
    """`partner_<service>` packages generated from the running services' documents, imported."""
    out = tmp_path_factory.mktemp("partner-clients")
    packages = {}
    for service in ("intake", "scoring", "publicity"):
        spec = out / f"{service}.openapi.json"
        spec.write_bytes(httpx.get(f"{platform.url(service)}/openapi.json", timeout=10).content)
        # The running service serves the contract committed under docs/contracts/.
        assert json.loads(spec.read_text()) == json.loads((CONTRACTS / spec.name).read_text()), spec.name
        generated = subprocess.run(
            [str(GENERATOR), "generate", "--path", str(spec), "--meta", "none"]
            + ["--output-path", str(out / f"partner_{service}")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert generated.returncode == 0, generated.stdout + generated.stderr
        packages[service] = f"partner_{service}"
    sys.path.insert(0, str(out))
    try:
        return {service: importlib.import_module(name) for service, name in packages.items()}
    finally:
        sys.path.remove(str(out))


def _api(package: ModuleType, module: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.{module}")


async def test_a_generated_client_walks_the_road_with_typed_answers_and_problems(platform, clients):
    intake, scoring, publicity = clients["intake"], clients["scoring"], clients["publicity"]
    IntakeProblem = _api(intake, "models").Problem
    window = intake.AuthenticatedClient(base_url=platform.url("intake"), token=demo_key("intake", "demowindow"))
    submit = _api(intake, "api.applications.submit_application")
    read = _api(intake, "api.applications.read_application")
    ApplicationRequest = _api(intake, "models").ApplicationRequest
    ApplicationView = _api(intake, "models").ApplicationView

    # Submit: a 201 with the application as a typed view.
    created = await submit.asyncio_detailed(client=window, body=ApplicationRequest.from_dict(application_body(31)))
    assert created.status_code == 201, created.content
    view = created.parsed
    assert isinstance(view, ApplicationView) and view.status.value == "submitted"
    assert isinstance(view.applied_on, datetime.date)

    # A refused submission is a typed problem naming the field.
    bad = application_body(32) | {"consent": False}
    refused = await submit.asyncio_detailed(client=window, body=ApplicationRequest.from_dict(bad))
    assert refused.status_code == 422 and isinstance(refused.parsed, IntakeProblem)
    assert "consent" in {e.field.rsplit(".", 1)[-1] for e in refused.parsed.errors}

    # Follow: the same typed view, until the score and its notice are there.
    async def noticed():
        doc = await read.asyncio(view.id, client=window)
        return isinstance(doc, ApplicationView) and isinstance(doc.notice_url, str) and doc

    followed = await wait_for("the partner's client sees the score and the notice", noticed)
    assert followed.status.value == "scored" and followed.score.total > 0
    unknown = await read.asyncio_detailed("APP-NOPE", client=window)
    assert unknown.status_code == 404 and isinstance(unknown.parsed, IntakeProblem) and unknown.parsed.status == 404

    # The explanation, with the window's scoring key: typed lines adding up to the total.
    window_scores = scoring.AuthenticatedClient(
        base_url=platform.url("scoring"), token=demo_key("scoring", "demowindowscores")
    )
    score = await _api(scoring, "api.scores.read_score").asyncio(view.id, client=window_scores)
    assert isinstance(score, _api(scoring, "models").Score), score
    assert score.rule_set.id == "hangzhou-2021" and score.total == pytest.approx(followed.score.total)
    assert sum(line.points for line in score.explanation.lines) == pytest.approx(score.total)
    assert isinstance(score.computed_at, datetime.datetime)

    # Object to the notice (anyone may): a typed receipt; an unknown indicator is a typed 422.
    notice_id = followed.notice_url.rsplit("/", 1)[-1]
    public = publicity.Client(
        base_url=platform.url("publicity"),
        httpx_args={"transport": httpx.AsyncHTTPTransport(local_address=OBJECTOR_ADDRESS)},
    )
    object_to = _api(publicity, "api.objections_and_reviews.object_to")
    ObjectionRequest = _api(publicity, "models").ObjectionRequest
    receipt = await object_to.asyncio(
        client=public,
        body=ObjectionRequest(notice_id=notice_id, items=["residence"], reason="我的居住年限少算了一年"),
    )
    assert isinstance(receipt, _api(publicity, "models").ObjectionReceipt), receipt
    assert receipt.kind == "objection" and receipt.status == "open" and receipt.notice_id == notice_id
    assert isinstance(receipt.due_by, datetime.date) and receipt.items == ["residence"]
    wrong = await object_to.asyncio_detailed(
        client=public, body=ObjectionRequest(notice_id=notice_id, items=["Not An Indicator"], reason="不对的指标名称")
    )
    assert wrong.status_code == 422 and isinstance(wrong.parsed, _api(publicity, "models").Problem)
    assert any("items" in e.field for e in wrong.parsed.errors)
