"""The owner's admitted list: round.finalized refers to it, and the module's owner alone fetches it,
a page at a time, at the final list's version. Another key gets the 404 of an unknown round."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from shared import clock
from tests.integration.access_matrix import issue_keys
from tests.integration.helpers import wait_for
from tests.integration.public_rounds import MODULE_OWNER, Person, round_on_notice

pytestmark = pytest.mark.integration
PEOPLE = [Person(2940, "韩梅"), Person(2941, "沈阳光"), Person(2942, "许多")]
CITY = {"Authorization": f"Bearer {demo_key('publicity', 'democity')}"}


async def test_the_owner_fetches_the_final_admitted_list_by_reference(platform):
    base = platform.url("publicity")
    keys = await issue_keys(platform.database_url, "publicity", {"admin": ("admitted-admin", ["admin"])})
    strangers = {
        "another owner": CITY,
        "an administrator": keys["admin"],
        "the public page's reader": {"Authorization": f"Bearer {demo_key('publicity', 'demoserviceapp')}"},
    }
    async with httpx.AsyncClient(timeout=20) as client:
        rnd = await round_on_notice(client, platform, PEOPLE, "admitted", quota=2)
        round_id, url = rnd["id"], f"{base}/v1/rounds/{rnd['id']}/admitted"

        # On notice: the owner is told it is not final yet; anyone else, that there is no such round.
        early = await client.get(url, params={"version": 1}, headers=MODULE_OWNER)
        assert early.status_code == 409 and early.json()["type"] == "/problems/round-not-final"
        unknown = await client.get(f"{base}/v1/rounds/RND-NO-SUCH/admitted", params={"version": 1}, headers=CITY)
        assert unknown.status_code == 404
        for who, headers in strangers.items():
            r = await client.get(url, params={"version": 1}, headers=headers)
            assert (r.status_code, r.json()["detail"]) == (
                404,
                unknown.json()["detail"].replace("RND-NO-SUCH", round_id),
            ), who
        assert (await client.get(url, params={"version": 1})).status_code == 401

        # The notice ends; the sweep makes the list final.
        engine = create_async_engine(platform.database_url)
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE publicity.rounds SET notice_end = :d WHERE id = :r"),
                {"d": clock.today() - timedelta(days=1), "r": round_id},
            )
        async with engine.connect() as conn:
            entries = (
                await conn.execute(
                    text(
                        "SELECT rank, application_id, name_masked, score FROM publicity.round_entries "
                        "WHERE round_id = :r ORDER BY rank"
                    ),
                    {"r": round_id},
                )
            ).all()

        async def finalized():
            async with engine.connect() as conn:
                return await conn.scalar(
                    text("SELECT payload FROM publicity.outbox WHERE event_type = 'round.finalized' AND key = :r"),
                    {"r": round_id},
                )

        event = await wait_for("round.finalized in publicity's outbox", finalized, timeout=30)
        await engine.dispose()
        data = event["data"]
        assert event["version"] == 2 and (data["admitted"], data["entries"]) == (2, 3)
        # The event holds no one: no application, no masked name.
        assert not any(e.application_id in str(event) or e.name_masked in str(event) for e in entries)

        # The owner pages through the list at the version the event named.
        assert data["admitted_url"] == f"{url}?version={data['list_version']}"
        admitted = httpx.URL(data["admitted_url"])
        first = await client.get(admitted.copy_merge_params({"limit": 1}), headers=MODULE_OWNER)
        assert first.status_code == 200, first.text
        second = await client.get(
            admitted.copy_merge_params({"limit": 1, "after": first.json()["next_after"]}), headers=MODULE_OWNER
        )
        items = first.json()["items"] + second.json()["items"]
        assert [(i["rank"], i["application_id"], i["name"], i["score"]) for i in items] == [
            tuple(e) for e in entries[:2]
        ]
        assert second.json()["next_after"] == 2 and first.json()["admitted"] == 2
        last = await client.get(admitted.copy_merge_params({"limit": 1, "after": 2}), headers=MODULE_OWNER)
        assert last.json()["items"] == [] and last.json()["next_after"] is None
        whole = await client.get(data["admitted_url"], headers=MODULE_OWNER)
        assert [i["rank"] for i in whole.json()["items"]] == [1, 2] and whole.json()["next_after"] is None

        # Another version of the final list is not there (named in the problem); strangers still get 404.
        stale = await client.get(url, params={"version": data["list_version"] + 1}, headers=MODULE_OWNER)
        assert stale.status_code == 404 and stale.json()["errors"][0]["field"] == "version"
        bad = await client.get(url, params={"version": "latest"}, headers=MODULE_OWNER)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.version"
        for who, headers in strangers.items():
            r = await client.get(data["admitted_url"], headers=headers)
            assert r.status_code == 404 and "application_id" not in r.text, who
