"""Property-based fuzzing of intake's partner API from its own OpenAPI document (schemathesis).

Whatever a partner sends to any operation the running intake service advertises (valid
documents, boundary values, wrong types, missing fields, strange path segments, other HTTP
methods, odd content types), the answer is what tests/integration/fuzzing.py demands of every
service: never a 5xx (but a declared 503 for an outage), every error an RFC 9457 problem
document, every status code and media type declared in the service's OpenAPI document.

The schema is read from the intake service the session's `platform` fixture started, so the
test covers exactly the operations the code under test exposes: an operation added later
(a multipart upload, say) is fuzzed without touching this file. Generation is seeded and
derandomized so a CI run is repeatable, and bounded so the run stays short.

Random data alone mostly bounces off the first check (an unknown application is a 404, a
random ID number fails its check digit), so generation is steered, part of the time, towards
input that gets further: the id of a real application of the key's own (and of one of its
materials), valid ID numbers of demo holders that no other test uses, the indicators the
application has, a body that content sniffing takes for a PDF, `consent` true, NUL in path
segments (which schemathesis never generates), and valid documents with a value known to
trouble what lies behind validation planted in them (NUL, integers beyond 64 bits).

Run it alone, beside another test run, with its own ports and database:
    TEST_PORT_BASE=29000 TEST_DATABASE=points_fuzz python -m pytest tests/integration/test_fuzz_intake.py
(`python -m bench` uses ports 28001-28004 and `make test` 18001-18004.)
"""

from __future__ import annotations

import warnings

import httpx
import pytest
import schemathesis
from hypothesis import strategies as st

from services.verification.seed import demo_id_number
from tests.integration.fuzzing import CHECKS, REQUEST_TIMEOUT, SEED, node_id_for_lazy_schemathesis
from tests.integration.helpers import WINDOW, application_body, wait_for

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 40  # per operation, fuzzing phase; the examples and coverage phases add their own, fewer, cases
# Submitting takes the richest document by far, and only a fraction of generated ones is valid all through.
MAX_EXAMPLES_SUBMIT = 150
# Demo holders (the seed has 3000) that only this test applies for: no other test's holder is touched.
FUZZ_HOLDERS = list(range(2950, 2970))
KEPT_HOLDER, WITHDRAWN_HOLDER, *SUBMITTED_HOLDERS = FUZZ_HOLDERS
# Enough for content sniffing to call it a PDF, and plain text, so it can go through a dictionary.
PDF = "%PDF-1.4\n%fuzz\n"
# Values that pass schema validation and are known to trouble what lies behind it: NUL (PostgreSQL
# text and jsonb refuse it), integers beyond 64 bits (orjson, bigint), odd code points.
NASTY_VALUES = ["\x00", "a\x00b", 2**63, -(2**63) - 1, 10**30, "\u202e\ufeff\U0001f600"]
# Documents each operation accepts, for mutation-based fuzzing beside the schema-based kind.
VALID_DOCUMENTS = {
    ("POST", "/v1/applications"): [
        {**application_body(n), "declared_facts": {}, "family": []} for n in SUBMITTED_HOLDERS[:3]
    ],
}


# -- the schema, loaded from the running service, with real things to aim at --------------------


def _has(raw_schema: dict, method: str, path: str) -> bool:
    return method.lower() in raw_schema.get("paths", {}).get(path, {})


async def _submit(client: httpx.AsyncClient, holder: int) -> dict:
    r = await client.post("/v1/applications", json=application_body(holder, name="模糊测试"))
    assert r.status_code == 201, (
        f"setting up the fuzz run: submitting for demo holder {holder}: {r.status_code} {r.text}"
    )
    return r.json()


async def _item_open_to_materials(client: httpx.AsyncClient, app_id: str, timeout: float = 30) -> str | None:
    async def answered() -> list[dict] | None:
        items = (await client.get(f"/v1/applications/{app_id}")).json()["items"]
        return items if all(i["state"] != "pending" for i in items) else None

    items = await wait_for(f"every department answers {app_id}", answered, timeout)
    return next((i["indicator"] for i in items if i["state"] in ("not_found", "returned")), None)


async def _targets(base: str, raw_schema: dict) -> dict:
    """Real resources of the window key's own, so that fuzzed requests get past the lookups."""
    async with httpx.AsyncClient(base_url=base, headers=WINDOW, timeout=REQUEST_TIMEOUT) as client:
        kept = await _submit(client, KEPT_HOLDER)
        targets = {
            "kept": kept["id"],
            "withdrawable": (await _submit(client, WITHDRAWN_HOLDER))["id"],
            "indicators": sorted({i["indicator"] for i in kept.get("items", [])}),
            "material": None,
        }
        notice = kept.get("rules_notice") or {}
        targets["indicators"] = sorted({*targets["indicators"], *(i["id"] for i in notice.get("indicators", []))})
        upload = "/v1/applications/{application_id}/materials"
        if _has(raw_schema, "post", upload):  # only once the service has materials
            # Every item is looked up in a registry: once they have answered, one found in none takes a material.
            evidence = await _item_open_to_materials(client, kept["id"])
            if evidence is None:
                warnings.warn(f"fuzzing without a material: every item of {kept['id']} is closed", stacklevel=2)
                return targets
            r = await client.post(
                upload.format(application_id=kept["id"]),
                data={"indicator": evidence},
                files={"file": ("fuzz.pdf", PDF.encode(), "application/pdf")},
            )
            assert r.status_code == 201, f"setting up the fuzz run: uploading a material: {r.status_code} {r.text}"
            targets["material"] = r.json()["id"]
    return targets


def _config(base: str, targets: dict) -> schemathesis.Config:
    dictionaries = {
        "kept-application": {"values": [targets["kept"]]},
        "withdrawable-application": {"values": [targets["withdrawable"]]},
        "fuzz-holders": {"values": [demo_id_number(n) for n in SUBMITTED_HOLDERS]},
        "pdf": {"values": [PDF]},
    }
    # A binding names a parameter wherever it occurs; operations without it are unaffected.
    parameters = {
        "path.application_id": {"dictionary": "kept-application", "probability": 0.5},
        "body.applicant.id_number": {"dictionary": "fuzz-holders", "probability": 0.5},
        "body.file": {"dictionary": "pdf", "probability": 0.5},
    }
    if targets["indicators"]:
        dictionaries["indicators"] = {"values": targets["indicators"]}
        parameters["body.indicator"] = {"dictionary": "indicators", "probability": 0.6}
    if targets["material"]:
        dictionaries["own-material"] = {"values": [targets["material"]]}
        parameters["path.material_id"] = {"dictionary": "own-material", "probability": 0.5}
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": base,
            "request-timeout": REQUEST_TIMEOUT,
            # No example database: nothing written into the checkout, no replay of old failures making runs differ.
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "suppress-health-check": ["too_slow", "filter_too_much"],
            "dictionaries": dictionaries,
            "parameters": parameters,
            # The kept application is never withdrawn, so uploads keep reaching an open application.
            "operations": [
                {
                    "include-path": "/v1/applications/{application_id}/withdraw",
                    "parameters": {
                        "path.application_id": {"dictionary": "withdrawable-application", "probability": 0.5}
                    },
                },
                {
                    "include-path": "/v1/applications",
                    "include-method": "POST",
                    "generation": {"max-examples": MAX_EXAMPLES_SUBMIT},
                },
            ],
        }
    )


def _nul_in_path_parameters(context, path_parameters):
    """schemathesis never puts NUL in a path parameter (many servers drop such requests before routing);
    uvicorn passes it on, so add it now and then (to the real ids too): intake looks ids up in the database."""
    names = sorted(k for k, v in (path_parameters or {}).items() if isinstance(v, str))
    if not names:
        return st.just(path_parameters)
    # Mostly unchanged (first, so that is what a failing case shrinks towards), else one parameter gets a NUL.
    return st.sampled_from([None] * 6 + names).map(
        lambda name: path_parameters if name is None else {**path_parameters, name: path_parameters[name] + "\x00"}
    )


def _places(value, path=()):
    """Every place in a JSON document, by path from the root."""
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from _places(item, (*path, key))


def _planted(value, path, nasty):
    """The document with `nasty` planted at `path`: as a new member of an object, in place of anything else."""
    if not path:
        return {**value, "fuzz": nasty} if isinstance(value, dict) else nasty
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _planted(value[head], rest, nasty)}
    return [_planted(item, rest, nasty) if i == head else item for i, item in enumerate(value)]


def _plantings(document) -> st.SearchStrategy:
    return st.tuples(st.sampled_from(sorted(_places(document), key=repr)), st.sampled_from(NASTY_VALUES)).map(
        lambda planting: _planted(document, *planting)
    )


def _steer_json_body(context, body):
    """JSON bodies: `consent` true most of the time (the schema says boolean, the model insists on true), half
    the time a nasty value planted somewhere, and, for operations with a valid document to start from, that
    document with a nasty value planted in it: valid in every other respect, it carries the value past validation
    (in place of a value, or as a new member of an object: free-form ones such as `declared_facts` take it)."""
    operation = context.operation
    if not isinstance(body, dict) or not any(b.media_type == "application/json" for b in operation.body):
        return st.just(body)
    consented = st.sampled_from([True, True, True, False]).map(
        lambda on: {**body, "consent": True} if on and "consent" in body else body
    )
    generated = consented.flatmap(lambda document: st.just(document) | _plantings(document))
    valid = VALID_DOCUMENTS.get((operation.method.upper(), operation.path))
    return (generated | st.sampled_from(valid).flatmap(_plantings)) if valid else generated


@pytest.fixture(scope="module")
async def intake_schema(platform):
    """Intake's OpenAPI document as the running service serves it, steered at the window key's own data."""
    base = platform.url("intake")
    raw_schema = httpx.get(f"{base}/openapi.json", timeout=REQUEST_TIMEOUT).raise_for_status().json()
    schema = schemathesis.openapi.from_dict(raw_schema, config=_config(base, await _targets(base, raw_schema)))
    schema.hook("flatmap_path_parameters")(_nul_in_path_parameters)
    schema.hook("flatmap_body")(_steer_json_body)
    return schema


# The "operations" tag holds /asyncapi.json: it takes no input at all. (/healthz, /readyz and
# /metrics are on the ops port, outside the document: /readyz answers 503 on purpose when the
# broker blinks, which would fail this test for reasons that have nothing to do with input.)
schema = schemathesis.pytest.from_fixture("intake_schema").exclude(tag="operations")


@pytest.fixture(autouse=True)
def _node_id(request):
    node_id_for_lazy_schemathesis(request)


@schema.parametrize()
def test_intake_answers_any_input_without_5xx_and_with_problem_details(case):
    response = case.call(headers=WINDOW, timeout=REQUEST_TIMEOUT)
    case.validate_response(response, checks=CHECKS, headers=WINDOW)
