"""Abuse limits that hold behind a proxy: real services, real PostgreSQL.

The limits on reviews, evaluations, simulations, replays and material uploads are proved on a platform of
their own (intake, scoring and publicity on their own database and topics) with limits small
enough to reach: 3 an hour per API key, 5 per client address. The suite's platform keeps generous
ones. Every attempt counts, answered or refused by the endpoint, so probing is limited as well.
The objection limit needs lists on notice, so it is proved on the suite's platform (20 an hour).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local.platform import Platform
from shared.auth import ApiKeys, api_keys_table
from shared.ratelimit import Counter, RateLimited, rate_limits_table
from tests.conftest import TEST_DATABASE, TEST_PORT_BASE
from tests.integration.public_rounds import Person, from_address, round_on_notice

pytestmark = pytest.mark.integration

PER_KEY, PER_CLIENT = 3, 5
PROXY = "127.0.0.9"  # TRUSTED_PROXIES on both platforms
FACTS = {
    "permit_status": "valid",
    "birth_date": "1990-05-01",
    "education": ["bachelor"],
    "residence_spans": [{"start": "2015-03-01", "end": None}],
}


@dataclass(frozen=True)
class Endpoint:
    service: str
    scope: str
    what: str  # as the problem names it

    async def call(self, client: httpx.AsyncClient, base: str, key: str, **headers: str) -> httpx.Response:
        h = {"Authorization": f"Bearer {key}", **headers}
        if self.what == "evaluations":  # a real evaluation, answered 200 while under the limit
            return await client.post(f"{base}/v1/evaluate", json={"facts": FACTS}, headers=h)
        if self.what == "simulations":  # an invalid request (422): counted all the same, nothing started
            return await client.post(f"{base}/v1/simulations", json={"population": "nonsense"}, headers=h)
        if self.what == "replays":  # a draft nobody uploaded (422): counted all the same
            return await client.post(
                f"{base}/v1/rounds/RND-20260101-0000000000/replays", json={"draft": "no-such-draft"}, headers=h
            )
        if self.what == "material uploads":  # someone else's application (404): counted too
            return await client.post(
                f"{base}/v1/applications/APP-20260101-0000000000/materials",
                headers=h,
                data={"indicator": "education"},
                files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n")},
            )
        return await client.post(
            f"{base}/v1/reviews",
            headers=h,
            json={  # no such score of this holder (404)
                "application_id": "APP-20260101-0000000000",
                "id_number": "330106197001010011",
                "items": ["education"],
                "reason": "学历积分有误，请核查。",
            },
        )


ENDPOINTS = [
    Endpoint("scoring", "evaluate", "evaluations"),
    Endpoint("scoring", "simulation", "simulations"),
    Endpoint("intake", "window", "material uploads"),
    Endpoint("publicity", "review:request", "reviews"),
    Endpoint("scoring", "rounds:replay", "replays"),
]
LIMITED = ["intake", "scoring", "publicity"]


@pytest.fixture(scope="module")
def limited(platform):
    """Intake, scoring and publicity with small limits, on a database and topics of their own."""
    from shared.migrate import upgrade_all

    env = {
        f"{what}_PER_{whom}_HOUR": str(n)
        for what in ("REVIEWS", "EVALUATIONS", "SIMULATIONS", "MATERIAL_UPLOADS", "REPLAYS")
        for whom, n in (("PRINCIPAL", PER_KEY), ("CLIENT", PER_CLIENT))
    }
    p = Platform(
        port_base=TEST_PORT_BASE + 70,
        database=f"{TEST_DATABASE}_limits",
        topic_prefix=f"l{secrets.token_hex(3)}.",
        extra_env={
            **env,
            "TRUSTED_PROXIES": PROXY,
            "LOG_LEVEL": "WARNING",
            "SIMULATION_DIR": ".local/test-limit-simulations",
        },
    )
    p.infra_up(fresh_database=True)
    upgrade_all(p.database_url)
    try:
        p.start_services(LIMITED)
        yield p
    finally:
        for s in LIMITED:
            p.stop_service(s)


async def fresh_key(platform: Platform, service: str, scope: str) -> str:
    engine = create_async_engine(platform.database_url)
    try:
        return await ApiKeys(engine, api_keys_table(MetaData(schema=service))).issue(
            f"limit-test-{secrets.token_hex(3)}", [scope]
        )
    finally:
        await engine.dispose()


def assert_limited(r: httpx.Response, what: str, whose: str, limit: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(r.headers["retry-after"]) <= 3600
    problem = r.json()
    assert problem["type"] == "/problems/rate-limited" and problem["status"] == 429
    assert f"Too many {what} from {whose}: at most {limit} an hour" in problem["detail"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.what.replace(" ", "-"))
async def test_each_limited_endpoint_refuses_a_key_past_its_limit_from_any_address(limited, endpoint):
    base, n = limited.url(endpoint.service), ENDPOINTS.index(endpoint)
    key, other_key = [await fresh_key(limited, endpoint.service, endpoint.scope) for _ in range(2)]
    async with from_address(f"127.0.1.{n}") as client, from_address(f"127.0.2.{n}") as elsewhere:
        for i in range(PER_KEY):
            r = await endpoint.call(client, base, key)
            assert r.status_code != 429 and r.status_code < 500, f"call {i + 1} of {PER_KEY}: {r.text}"
        assert_limited(await endpoint.call(client, base, key), endpoint.what, "this API key", PER_KEY)
        # The key is spent wherever it is used; another key from the same address is not (the refused
        # call was not counted against the address).
        assert_limited(await endpoint.call(elsewhere, base, key), endpoint.what, "this API key", PER_KEY)
        assert (await endpoint.call(client, base, other_key)).status_code != 429


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.what.replace(" ", "-"))
async def test_each_limited_endpoint_refuses_an_address_past_its_limit_whatever_the_key(limited, endpoint):
    base, n = limited.url(endpoint.service), ENDPOINTS.index(endpoint)
    keys = [await fresh_key(limited, endpoint.service, endpoint.scope) for _ in range(3)]
    async with from_address(f"127.0.3.{n}") as client, from_address(f"127.0.4.{n}") as neighbour:
        for i in range(PER_CLIENT):  # spread over keys, none of them past its own limit
            r = await endpoint.call(client, base, keys[i % 2])
            assert r.status_code != 429 and r.status_code < 500, f"call {i + 1} of {PER_CLIENT}: {r.text}"
        assert_limited(await endpoint.call(client, base, keys[2]), endpoint.what, "this address", PER_CLIENT)
        assert (await endpoint.call(neighbour, base, keys[2])).status_code != 429


async def test_an_untrusted_peer_cannot_rotate_x_forwarded_for_past_an_address_limit(limited):
    endpoint, base = ENDPOINTS[0], limited.url("scoring")
    keys = [await fresh_key(limited, "scoring", "evaluate") for _ in range(3)]
    # 127.0.0.1: the one peer uvicorn itself would believe by default (its --forwarded-allow-ips).
    async with from_address("127.0.0.1") as client:
        for i in range(PER_CLIENT):
            r = await endpoint.call(client, base, keys[i % 2], **{"X-Forwarded-For": f"198.51.100.{i}"})
            assert r.status_code == 200, r.text
        over = await endpoint.call(client, base, keys[2], **{"X-Forwarded-For": "198.51.100.99"})
        assert_limited(over, "evaluations", "this address", PER_CLIENT)


async def test_behind_a_trusted_proxy_each_forwarded_client_is_counted(limited):
    endpoint, base = ENDPOINTS[0], limited.url("scoring")
    keys = [await fresh_key(limited, "scoring", "evaluate") for _ in range(4)]
    client_a, client_b = f"203.0.113.{secrets.randbelow(250)}", "2001:db8::7"
    async with from_address(PROXY) as proxy:
        for i in range(PER_CLIENT):  # the client wrote a hop of its own left of what our proxy saw
            r = await endpoint.call(proxy, base, keys[i % 2], **{"X-Forwarded-For": f"10.9.9.{i}, {client_a}"})
            assert r.status_code == 200, r.text
        over = await endpoint.call(proxy, base, keys[2], **{"X-Forwarded-For": client_a})
        assert_limited(over, "evaluations", "this address", PER_CLIENT)
        # Another client behind the same proxy has its own count: the proxy's address is not what is counted.
        assert (await endpoint.call(proxy, base, keys[3], **{"X-Forwarded-For": client_b})).status_code == 200


async def _objection_target(platform, number: int, name: str, label: str) -> tuple[str, dict]:
    async with httpx.AsyncClient(timeout=20) as client:
        rnd = await round_on_notice(client, platform, [Person(number, name)], label, quota=1)
        entry = (await client.get(f"{platform.url('publicity')}/v1/rounds/{rnd['id']}/entries/1")).json()
    item = next(line["indicator"] for line in entry["lines"] if line.get("department"))
    return platform.url("publicity"), {
        "round_id": rnd["id"],
        "entry": 1,
        "items": [item],
        "reason": "积分有误，请重新核查。",
    }


def _objection_limit(platform) -> int:
    return int(platform.env("publicity")["OBJECTIONS_PER_CLIENT_HOUR"])


async def test_objections_cannot_be_multiplied_by_rotating_x_forwarded_for(platform):
    base, body = await _objection_target(platform, 2696, "东方明月", "xff")
    limit = _objection_limit(platform)
    async with from_address("127.0.0.6") as client:  # not a trusted proxy
        for i in range(limit):
            r = await client.post(f"{base}/v1/objections", json=body, headers={"X-Forwarded-For": f"198.51.100.{i}"})
            assert r.status_code == 201, f"objection {i + 1} of {limit}: {r.text}"
        over = await client.post(f"{base}/v1/objections", json=body, headers={"X-Forwarded-For": "192.0.2.200"})
        assert over.status_code == 429 and 0 < int(over.headers["retry-after"]) <= 3600, over.text


async def test_objections_behind_a_trusted_proxy_count_the_forwarded_client(platform):
    base, body = await _objection_target(platform, 2697, "西门听雪", "proxy")
    limit, client = _objection_limit(platform), f"203.0.113.{secrets.randbelow(250)}"
    async with from_address(PROXY) as proxy:
        for i in range(limit):
            r = await proxy.post(f"{base}/v1/objections", json=body, headers={"X-Forwarded-For": client})
            assert r.status_code == 201, f"objection {i + 1} of {limit}: {r.text}"
        over = await proxy.post(f"{base}/v1/objections", json=body, headers={"X-Forwarded-For": client})
        assert over.status_code == 429, over.text
        other = await proxy.post(f"{base}/v1/objections", json=body, headers={"X-Forwarded-For": "198.18.0.1"})
        assert other.status_code == 201, other.text


async def test_html_pages_carry_the_security_headers(platform):
    async with httpx.AsyncClient(timeout=10) as client:
        for path in ("/", "/rounds/RND-NO-SUCH-ROUND"):
            r = await client.get(platform.url("publicity") + path, headers={"Accept": "text/html"})
            assert r.headers["content-type"].startswith("text/html"), path
            policy = r.headers["content-security-policy"]
            assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script-src" not in policy
            assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-content-type-options"] == "nosniff"
        api = await client.get(platform.url("publicity") + "/v1/rounds")
        assert api.headers["x-content-type-options"] == "nosniff" and "content-security-policy" not in api.headers


async def test_replicas_counting_at_once_never_let_more_than_the_limit_through(limited):
    """Two counters (as two replicas hold) hit one bucket 60 times at once: exactly the limit passes."""
    table = rate_limits_table(MetaData(schema="scoring"))
    replicas = [Counter(table), Counter(table)]
    bucket, limit = f"race:{secrets.token_hex(4)}", 10
    engine = create_async_engine(limited.database_url, pool_size=20, max_overflow=0)
    try:
        results = await asyncio.gather(
            *(replicas[i % 2].hit(engine, [(bucket, limit)]) for i in range(60)), return_exceptions=True
        )
    finally:
        await engine.dispose()
    refused = [r for r in results if r is not None]
    assert len(results) - len(refused) == limit
    assert all(isinstance(r, RateLimited) and r.bucket == bucket for r in refused)
