"""Delegation (委托办): an employer with a written authorisation, a guardian or relative for a minor,
an elderly or a disabled holder. Who acted, for whom and on what authority is recorded, and the
departments verify it against their registries: an unproven delegation is refused, not scored."""

from __future__ import annotations

import base64

import httpx
import pytest

from deploy.local.platform import DEMO_EMPLOYER
from services.verification.seed import demo_child, demo_id_number, demo_spouse_id_number
from tests.integration.helpers import EMPLOYER, GUARDIAN, WINDOW, application_body, pdf, wait_for

pytestmark = pytest.mark.integration


def employer_body(n: int, document: bytes | None = None) -> dict:
    return {
        **application_body(n),
        "delegation": {
            "relation": "employer",
            "grounds": "employment",
            "authorisation": {
                "signed_on": "2026-11-01",
                "filename": "委托书.pdf",
                "document": base64.b64encode(document or pdf(f"authorisation {n}")).decode(),
            },
        },
    }


def relative_body(holder: dict, representative_id: str, relation: str, grounds: str) -> dict:
    return {
        "applicant": {"name": holder["name"], "id_number": holder["id_number"], "phone": "13800000000"},
        "permit_number": holder["permit_number"],
        "consent": True,
        "delegation": {
            "relation": relation,
            "grounds": grounds,
            "representative": {"name": "代理人", "id_number": representative_id},
        },
    }


async def settled(client: httpx.AsyncClient, platform, app_id: str, headers: dict) -> dict:
    async def probe():
        r = await client.get(f"{platform.url('intake')}/v1/applications/{app_id}", headers=headers)
        doc = r.json()
        return doc.get("score") and doc

    return await wait_for("scoring: the delegated application is decided", probe)


async def test_an_employer_applies_for_its_employee_with_a_written_authorisation(platform):
    url = f"{platform.url('intake')}/v1/applications"
    n = 140  # works for the demo employer (n % 7 == 0)
    letter = pdf("I authorise my employer to apply")
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(url, json=employer_body(n, letter), headers=EMPLOYER)
        assert r.status_code == 201, r.text
        app = r.json()
        authority = app["delegation"]["authority"]
        assert app["delegation"]["employer_credit_code"] == DEMO_EMPLOYER
        assert authority["kind"] == "written_authorisation"
        # The letter is kept whole: the same bytes come back, with the digest recorded at acceptance.
        listed = (await client.get(f"{url}/{app['id']}/materials", headers=EMPLOYER)).json()["items"]
        assert [(m["indicator"], m["purpose"], m["media_type"]) for m in listed] == [
            ("delegation", "authorisation", "application/pdf")
        ]
        content = await client.get(f"{url}/{app['id']}/materials/{authority['material_id']}/content", headers=EMPLOYER)
        assert content.content == letter and content.headers["x-content-sha256"] == authority["sha256"]

        done = await settled(client, platform, app["id"], EMPLOYER)
        item = next(i for i in done["items"] if i["indicator"] == "delegation")
        assert (item["department"], item["state"]) == ("social_insurance", "passed")
        assert done["status"] == "scored" and done["score"]["total"] > 0

        # The employer sees its own applications, and nobody else's.
        window_app = (await client.post(url, json=application_body(141), headers=WINDOW)).json()["id"]
        assert (await client.get(f"{url}/{window_app}", headers=EMPLOYER)).status_code == 404
        assert [a["id"] for a in (await client.get(url, headers=EMPLOYER)).json()["items"]] == [app["id"]]


async def test_an_employer_who_does_not_employ_the_holder_is_refused_and_nobody_is_barred(platform):
    url = f"{platform.url('intake')}/v1/applications"
    n = 143  # works for another employer (n % 7 == 3)
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(url, json=employer_body(n), headers=EMPLOYER)
        assert r.status_code == 201, r.text
        done = await settled(client, platform, r.json()["id"], EMPLOYER)
        item = next(i for i in done["items"] if i["indicator"] == "delegation")
        assert item["state"] == "returned" and DEMO_EMPLOYER in item["reason"]
        assert done["status"] == "refused" and done["score"]["total"] == 0
        # Refused is not barred: the holder may apply again, in person.
        again = await client.post(url, json=application_body(n), headers=WINDOW)
        assert again.status_code == 201, again.text


async def test_the_key_decides_who_may_act_and_the_authorisation_is_checked(platform):
    url = f"{platform.url('intake')}/v1/applications"
    async with httpx.AsyncClient(timeout=10) as client:
        bare = await client.post(url, json=application_body(147), headers=EMPLOYER)
        assert bare.status_code == 422 and bare.json()["errors"][0]["field"] == "delegation"
        posing = await client.post(url, json=employer_body(147), headers=WINDOW)
        assert posing.status_code == 422 and posing.json()["errors"][0]["field"] == "delegation.relation"
        not_a_letter = await client.post(url, json=employer_body(147, b"just some text, named .pdf"), headers=EMPLOYER)
        assert not_a_letter.status_code == 415
        assert not_a_letter.json()["errors"][0]["field"] == "delegation.authorisation.document"
        unsigned = employer_body(147)
        del unsigned["delegation"]["authorisation"]
        r = await client.post(url, json=unsigned, headers=EMPLOYER)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "delegation.authorisation"
        r = await client.post(url, json=application_body(147), headers=GUARDIAN)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "delegation"
        # An employer acts through its key and the letter: a representative would be checked as a relative.
        with_representative = employer_body(147)
        with_representative["delegation"]["representative"] = {"name": "人事", "id_number": demo_id_number(148)}
        r = await client.post(url, json=with_representative, headers=EMPLOYER)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "delegation.representative"


async def test_a_parent_applies_for_a_minor_and_the_household_registry_confirms_it(platform):
    url = f"{platform.url('intake')}/v1/applications"
    n = 150
    child = {**demo_child(n)}
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(url, json=relative_body(child, demo_id_number(n), "parent", "minor"), headers=GUARDIAN)
        assert r.status_code == 201, r.text
        assert r.json()["delegation"]["representative"]["id_number"] == demo_id_number(n)
        done = await settled(client, platform, r.json()["id"], GUARDIAN)
        item = next(i for i in done["items"] if i["indicator"] == "delegation")
        assert (item["department"], item["state"]) == ("police", "passed")
        assert done["status"] == "scored"
        assert done["timeline"][0]["summary"]["acting_as"] == "parent"

        # Someone the registry does not know as the child's parent.
        stranger = relative_body({**demo_child(160)}, demo_id_number(161), "parent", "minor")
        r = await client.post(url, json=stranger, headers=GUARDIAN)
        done = await settled(client, platform, r.json()["id"], GUARDIAN)
        item = next(i for i in done["items"] if i["indicator"] == "delegation")
        assert item["state"] == "returned" and "household registry" in item["reason"]
        assert done["status"] == "refused"


async def test_a_spouse_applies_for_a_disabled_holder_only_with_a_certificate(platform):
    url = f"{platform.url('intake')}/v1/applications"
    async with httpx.AsyncClient(timeout=10) as client:
        results = {}
        for n in (34, 36):  # both have a registered spouse; only 34 (n % 31 == 3) a disability certificate
            holder = {
                "name": "测试",
                "id_number": demo_id_number(n),
                "permit_number": application_body(n)["permit_number"],
            }
            r = await client.post(
                url, json=relative_body(holder, demo_spouse_id_number(n), "spouse", "disabled"), headers=GUARDIAN
            )
            assert r.status_code == 201, r.text
            done = await settled(client, platform, r.json()["id"], GUARDIAN)
            results[n] = next(i for i in done["items"] if i["indicator"] == "delegation")
        assert results[34]["state"] == "passed"
        assert results[36]["state"] == "returned" and "disability" in results[36]["reason"]
        # Grounds the ID number already disproves are refused at once.
        adult = {
            "name": "测试",
            "id_number": demo_id_number(38),
            "permit_number": application_body(38)["permit_number"],
        }
        r = await client.post(
            url, json=relative_body(adult, demo_spouse_id_number(38), "spouse", "minor"), headers=GUARDIAN
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "delegation.grounds"
