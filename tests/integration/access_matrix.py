"""What the access matrices share: a service's read endpoints, keys of the test's own, and the
check that a refusal to see something is the very answer an unknown id gets."""

from __future__ import annotations

import httpx
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import demo_key
from shared.auth import ApiKeys, api_keys_table

# Principals every matrix has: keys that authenticate nowhere here.
INVALID = ("revoked", "other service", "garbage", "none")


def read_endpoints(spec) -> set[str]:
    """Every GET path the service serves from its own routers (the operations endpoints,
    /healthz, /readyz, /metrics, /asyncapi.json and the API docs, are added by create_app)."""
    return {route.path for router in spec.routers for route in router.routes if "GET" in route.methods}


async def issue_keys(database_url: str, service: str, wanted: dict[str, tuple[str, list[str]]]) -> dict[str, dict]:
    """Keys of the test's own in the service's key table ({name: (principal, scopes)}), plus the
    invalid ones: revoked, another service's, garbage, none."""
    engine = create_async_engine(database_url)
    store = ApiKeys(engine, api_keys_table(MetaData(schema=service)))
    made = {name: await store.issue(principal, scopes) for name, (principal, scopes) in wanted.items()}
    made["revoked"] = await store.issue(f"matrix-{service}-revoked", ["admin"])
    await store.revoke(made["revoked"].split("_")[1])
    await engine.dispose()
    made["other service"] = demo_key(
        "intake" if service != "intake" else "verification", "demowindow" if service != "intake" else "demopolice"
    )
    made["garbage"] = "pk_nothing_here"
    return {name: {"Authorization": f"Bearer {k}"} for name, k in made.items()} | {"none": {}}


async def assert_same_as_unknown(
    client: httpx.AsyncClient, refused: httpx.Response, unknown_url: str, real_id: str, unknown_id: str, headers: dict
) -> None:
    """A 404 for something that exists must not tell it from something that does not."""
    unknown = await client.get(unknown_url, headers=headers)
    assert unknown.status_code == 404, f"the unknown id itself: {unknown.status_code} {unknown.text}"
    assert refused.headers["content-type"] == unknown.headers["content-type"] == "application/problem+json"
    assert refused.text.replace(real_id, unknown_id) == unknown.text, (refused.text, unknown.text)
