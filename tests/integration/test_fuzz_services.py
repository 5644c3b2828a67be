"""Property-based fuzzing of verification's, scoring's and publicity's OpenAPI documents (schemathesis).

The same promise as intake's (tests/integration/test_fuzz_intake.py), for every operation the other
three services advertise: no 5xx, every error a problem document, and every status code and media
type one the document declares (tests/integration/fuzzing.py). Each operation is called with the key
of the principal it is for, so requests get past authentication into the code behind it, and path
parameters are steered, part of the time, towards things that exist (a real application, the
department that answered it).

Keys are chosen so that no fuzzed request can change what later tests rely on: scoring's policy
office may upload drafts and start simulations (bounded by the session's SIMULATION_MAX_HOLDERS and
removed afterwards) but not publish a rule set or register a module; publicity's officer may answer
objections but owns no module to open rounds for.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from tests.integration.fuzzing import CHECKS, REQUEST_TIMEOUT, SEED, node_id_for_lazy_schemathesis
from tests.integration.helpers import WINDOW, application_body, follow_to_notice

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 25
FUZZ_HOLDER = 2971  # applied for by this test only (intake's fuzzing uses 2950-2969)


def _bearer(service: str, key_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo_key(service, key_id)}"}


# The key each operation is called with, by path prefix (the longest that matches).
KEYS = {
    "verification": {"/": _bearer("verification", "demopolice")},
    "scoring": {
        "/": _bearer("scoring", "demopolicy"),
        "/v1/evaluate": _bearer("scoring", "demoreader"),
        "/v1/scores": _bearer("scoring", "demowindowscores"),
    },
    "publicity": {"/": _bearer("publicity", "demoofficer")},
}


def _key_for(service: str, path: str) -> dict[str, str]:
    keys = KEYS[service]
    return keys[max((p for p in keys if path.startswith(p)), key=len)]


@pytest.fixture(scope="module")
def real_application(platform) -> str:
    """An application through to its notice: something real for path parameters to point at."""
    import asyncio

    async def submit() -> str:
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.post(
                f"{platform.url('intake')}/v1/applications", json=application_body(FUZZ_HOLDER), headers=WINDOW
            )
            assert r.status_code == 201, r.text
            await follow_to_notice(client, platform, r.json()["id"])
            return r.json()["id"]

    return asyncio.run(submit())


def _schema(platform, service: str, application_id: str):
    base = platform.url(service)
    raw = httpx.get(f"{base}/openapi.json", timeout=REQUEST_TIMEOUT).raise_for_status().json()
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": base,
            "request-timeout": REQUEST_TIMEOUT,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "suppress-health-check": ["too_slow", "filter_too_much"],
            "dictionaries": {"application": {"values": [application_id]}, "department": {"values": ["police"]}},
            "parameters": {
                "path.application_id": {"dictionary": "application", "probability": 0.5},
                "path.department": {"dictionary": "department", "probability": 0.6},
            },
        }
    )
    return schemathesis.openapi.from_dict(raw, config=config)


@pytest.fixture(scope="module")
def verification_schema(platform, real_application):
    return _schema(platform, "verification", real_application)


@pytest.fixture(scope="module")
def scoring_schema(platform, real_application):
    yield _schema(platform, "scoring", real_application)
    _remove_fuzzed_simulations(platform.database_url)


@pytest.fixture(scope="module")
def publicity_schema(platform, real_application):
    return _schema(platform, "publicity", real_application)


def _remove_fuzzed_simulations(database_url: str) -> None:
    """Jobs the fuzzing queued must not hold up the simulation tests that come later: the queued ones
    go, and a running one (at most SIMULATION_MAX_HOLDERS, a few seconds) is let finish."""
    import asyncio
    import time

    async def remove() -> None:
        engine = create_async_engine(database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text("DELETE FROM scoring.simulations WHERE state = 'queued' AND requested_by = :p"),
                    {"p": "demo-policy-office"},
                )
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                async with engine.connect() as conn:
                    if not await conn.scalar(text("SELECT count(*) FROM scoring.simulations WHERE state = 'running'")):
                        return
                await asyncio.sleep(0.5)
            raise AssertionError("a fuzzed simulation job still runs after 90 s")
        finally:
            await engine.dispose()

    asyncio.run(remove())


@pytest.fixture(autouse=True)
def _node_id(request):
    node_id_for_lazy_schemathesis(request)


# The "operations" tag (/asyncapi.json; the probes and metrics are on the ops port) takes no input at all.
verification = schemathesis.pytest.from_fixture("verification_schema").exclude(tag="operations")
scoring = schemathesis.pytest.from_fixture("scoring_schema").exclude(tag="operations")
publicity = schemathesis.pytest.from_fixture("publicity_schema").exclude(tag="operations")


def _call_and_check(service: str, case) -> None:
    headers = _key_for(service, case.path)
    response = case.call(headers=headers, timeout=REQUEST_TIMEOUT)
    case.validate_response(response, checks=CHECKS, headers=headers)


@verification.parametrize()
def test_verification_answers_any_input_as_its_openapi_says(case):
    _call_and_check("verification", case)


@scoring.parametrize()
def test_scoring_answers_any_input_as_its_openapi_says(case):
    _call_and_check("scoring", case)


@publicity.parametrize()
def test_publicity_answers_any_input_as_its_openapi_says(case):
    _call_and_check("publicity", case)
