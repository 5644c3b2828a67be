"""Nothing the publicity service shows without a key names a holder: with a round on notice, the
applicants' score notices, an objection to an entry, one to a notice and a holder's review (each
reason repeating a holder's full name, ID number, permit and phone, and a contact phone given),
every public GET route is fetched, filled with the real ids, and no response contains any of it
unmasked: no full name, no given name, no ID number nor its middle (the birth date), no permit
number, no phone. A holder with a criminal conviction on record (2396) is on notice too: no page or
document about them names a sensitive deduction (criminal, drug rehabilitation, detention, custody
education, dishonesty, family planning, a veto), by its Chinese name or its id; the public sees
only the deductions' total. The routes are the service's own (every GET route of its app and routers, the
HTML pages outside the OpenAPI document included); one the crawl cannot reach fails the test, so a
new route is scanned from the day it is added.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import urllib.parse
from collections import deque
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Mount

from deploy.local.platform import demo_key
from services.scoring.engine.rules import in_force, load_shipped
from shared import clock
from shared.auth import current_principal
from shared.masking import mask_id_number, mask_name
from shared.names import SENSITIVE_CATEGORIES
from tests.integration.campaigns import open_public_campaign
from tests.integration.public_rounds import Person, apply, from_address, round_on_notice

pytestmark = pytest.mark.integration
SERVICE_APP = {"Authorization": f"Bearer {demo_key('publicity', 'demoserviceapp')}"}
# Holders 2660–2664, under names nobody else in the suite uses (the masked part is two or three characters).
NAMES = ["端木思齐", "上官婉清", "钟离春晓", "慕容晓雪", "皇甫嵩岳"]
CONTACT = "13911112222"
# Holder 2396 has a criminal conviction in the look-back (the seed's residue 400 mod 499).
OFFENDER = Person(2396, "令狐冲远")
PARAM = re.compile(r"{(\w+)(?::\w+)?}")
MAX_FETCHES = 400
# Served on the operations port (OPS_PORT, shared/ops.py) by the running services; this process's
# app, built without OPS_PORT, still lists them.
OPERATIONS = {"/healthz", "/readyz", "/metrics"}


def _get_routes() -> dict[str, Any]:
    """Every GET route of the publicity app, by path: the app's own and those of the routers it includes."""
    from services.publicity.app import SPEC, app

    routes: dict[str, Any] = {}

    def take(route: Any, routers: list) -> None:
        if isinstance(route, Mount):
            if _package_docs_assets(route):
                return  # Swagger UI and ReDoc, files of an installed package: no holder can be in them
            pytest.fail(f"a mount at {route.path}: what it serves is public too; teach this scan to crawl it")
        if hasattr(route, "path"):
            if route.path in OPERATIONS:
                return  # on the operations port, not the public one (test_operations.py proves it)
            if "GET" in (getattr(route, "methods", None) or ()):
                routes[route.path] = route
        elif getattr(route, "original_router", None) not in routers:  # newer FastAPI keeps included routers
            pytest.fail(f"routes this scan cannot enumerate: {route!r}")

    for route in app.routes:
        take(route, SPEC.routers)
    for router in SPEC.routers:
        for route in router.routes:
            take(route, [])
    return routes


def _package_docs_assets(mount: Mount) -> bool:
    """The /docs assets: static files from the fastapi-offline package's own folder, and nothing else."""
    import fastapi_offline
    from starlette.staticfiles import StaticFiles

    package = Path(fastapi_offline.__file__).resolve().parent
    app = mount.app
    return (
        mount.path == "/docs/assets"
        and isinstance(app, StaticFiles)
        and app.directory is not None
        and Path(app.directory).resolve().is_relative_to(package)
    )


def _pattern(template: str) -> re.Pattern:
    """A route's path template as a regular expression, one group per path parameter."""
    literals = PARAM.split(template)[::2]  # literal, name, literal, name, ..., literal
    return re.compile("^" + "([^/]+)".join(re.escape(x) for x in literals) + "$")


def _needs_key(route: Any) -> bool:
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        if dependant.call is current_principal:
            return True
        pending.extend(dependant.dependencies)
    return False


def _secrets(people: list[Person]) -> dict[str, str]:
    """What must never show, each with a label for the failure message."""
    found = {"the objector's contact phone": CONTACT}
    for p in people:
        born = p.id_number[6:14]
        found.update(
            {
                f"{p.n}'s full name": p.name,
                f"{p.n}'s given name": p.name[1:],
                f"{p.n}'s ID number": p.id_number,
                f"{p.n}'s ID number's middle": p.id_number[4:-4],
                f"{p.n}'s birth date": born,
                f"{p.n}'s birth date (ISO)": f"{born[:4]}-{born[4:6]}-{born[6:]}",
                f"{p.n}'s permit number": p.permit_number,
                f"{p.n}'s phone": p.phone,
            }
        )
    return found


def _readings(response: httpx.Response) -> list[str]:
    """The response as a reader may decode it: raw, HTML entities and %-escapes undone, JSON re-encoded."""
    body = response.text
    readings = [body, html.unescape(body), urllib.parse.unquote(body), str(dict(response.headers))]
    if "json" in response.headers.get("content-type", ""):
        readings.append(json.dumps(response.json(), ensure_ascii=False))
    return readings


def _objectable(lines: list[dict]) -> str:
    return next(line["indicator"] for line in lines if line.get("department"))


async def test_no_public_route_shows_a_holder_unmasked(platform):
    people = [Person(2660 + i, name) for i, name in enumerate(NAMES)]
    base = platform.url("publicity")
    async with from_address("127.0.0.3") as client:  # its objections count against its own address
        rnd = await round_on_notice(client, platform, people, "mask", quota=2)
        await apply(client, platform, [OFFENDER])
        offender_notice = (await client.get(f"{base}/v1/notices/{OFFENDER.notice_id}")).json()
        assert offender_notice["deductions_total"] == -150  # on notice as one figure
        assert all(line["category"] not in SENSITIVE_CATEGORIES for line in offender_notice["lines"])
        round_id = rnd["id"]
        entries = (await client.get(f"{base}/v1/rounds/{round_id}/entries", params={"limit": 100})).json()["items"]
        assert len(entries) == len(people)

        # Objections and a review whose reasons repeat everything about a holder: a reason is never public.
        def reason(p: Person) -> str:
            return (
                f"申请人{p.name}（身份证号{p.id_number}，居住证{p.permit_number}，电话{p.phone}）的积分有误，请核查。"
            )

        detail = (await client.get(f"{base}/v1/rounds/{round_id}/entries/1")).json()
        on_entry = await client.post(
            f"{base}/v1/objections",
            json={
                "round_id": round_id,
                "entry": 1,
                "items": [_objectable(detail["lines"])],
                "reason": reason(people[0]),
                "contact_phone": CONTACT,
            },
        )
        notice = (await client.get(f"{base}/v1/notices/{people[1].notice_id}")).json()
        on_notice = await client.post(
            f"{base}/v1/objections",
            json={
                "notice_id": people[1].notice_id,
                "items": [_objectable(notice["lines"])],
                "reason": reason(people[1]),
                "contact_phone": CONTACT,
            },
        )
        own = (await client.get(f"{base}/v1/notices/{people[2].notice_id}")).json()
        review = await client.post(
            f"{base}/v1/reviews",
            headers=SERVICE_APP,
            json={
                "application_id": people[2].application_id,
                "id_number": people[2].id_number,
                "items": [_objectable(own["lines"])],
                "reason": reason(people[2]),
            },
        )
        for r in (on_entry, on_notice, review):
            assert r.status_code == 201, r.text

        ids = {
            "round_id": [round_id],
            "seq": [str(e["entry"]) for e in entries],
            "notice_id": [p.notice_id for p in [*people, OFFENDER]],
            "objection_id": [on_entry.json()["id"], on_notice.json()["id"], review.json()["id"]],
            "campaign_id": [await open_public_campaign(client, platform, "脱敏检查调查")],
        }
        routes = _get_routes()
        live = (await client.get(f"{base}/openapi.json")).json()["paths"]
        assert {p for p, ops in live.items() if "get" in ops} <= set(routes), (
            "the running service has GET routes this process does not see"
        )
        unfillable = {p: names for p in routes if (names := set(PARAM.findall(p)) - set(ids))}
        assert not unfillable, f"routes with path parameters this scan cannot fill: {unfillable}; add real values"

        patterns = {path: _pattern(path) for path in routes}

        def route_of(path: str) -> str | None:
            """The route template a path is served by, if the scan may follow it (its ids are ours)."""
            for template, pattern in patterns.items():
                if (m := pattern.match(path)) and all(
                    value in ids[name] for name, value in zip(PARAM.findall(template), m.groups(), strict=True)
                ):
                    return template
            return None

        queue: deque[str] = deque()
        for template in routes:
            names = PARAM.findall(template)
            for values in itertools.product(*(ids[n] for n in names)):
                filled = template
                for n, v in zip(names, values, strict=True):
                    filled = re.sub(rf"{{{n}(?::\w+)?}}", urllib.parse.quote(v), filled)
                queue.append(filled)
        # Searches and pages, as a reader would ask for them.
        for p in people[:2]:
            for q in (urllib.parse.quote(p.name[0]), p.id_number[-4:]):
                queue += [f"/rounds/{round_id}?q={q}", f"/v1/rounds/{round_id}/entries?q={q}"]
        queue += [
            f"/rounds/{round_id}?limit=2",
            f"/v1/rounds/{round_id}/entries?limit=2&after=2",
            "/v1/rounds?status=notice",
            *(f"/v1/notices?application_id={p.application_id}" for p in people),
        ]

        secrets, seen, covered, private, leaks = _secrets([*people, OFFENDER]), set(), set(), set(), []
        rule_set = in_force(load_shipped(), clock.today())
        sensitive = {
            f"the sensitive deduction {ind.id}": text
            for ind in rule_set.indicators
            if ind.category in SENSITIVE_CATEGORIES
            for text in (ind.name.zh, f'"{ind.id}"', f'value="{ind.id}"')
        }
        masked_seen: dict[str, str] = {}
        about_offender: set[str] = set()
        while queue:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            assert len(seen) <= MAX_FETCHES, "the crawl does not end"
            template = route_of(urllib.parse.urlsplit(url).path)
            assert template is not None, f"{url} is served by no known route"
            r = await client.get(base + url)
            if r.status_code in (401, 403) and _needs_key(routes[template]):
                private.add(template)  # a key is needed: not public, and it says no to a stranger
            else:
                assert r.status_code == 200, f"GET {url}: {r.status_code} {r.text[:300]}"
                covered.add(template)
            readings = _readings(r)
            leaks += [
                f"GET {url} shows {label}" for label, secret in secrets.items() if any(secret in t for t in readings)
            ]
            if mask_id_number(OFFENDER.id_number) in r.text:  # a page or document about the offender
                about_offender.add(url)
                leaks += [f"GET {url} names {label}" for label, t in sensitive.items() if any(t in x for x in readings)]
            masked_seen.update(
                {p.name: url for p in people if mask_name(p.name) in r.text and mask_id_number(p.id_number) in r.text}
            )
            if "text/html" in r.headers.get("content-type", ""):  # follow the page's own links to our data
                for href in re.findall(r'href="([^"]+)"', r.text):
                    target = urllib.parse.urlsplit(urllib.parse.urljoin(base + url, html.unescape(href)))
                    if f"{target.scheme}://{target.netloc}" == base and route_of(target.path):
                        queue.append(target.path + (f"?{target.query}" if target.query else ""))

        assert not leaks, "personal data shown unmasked:\n" + "\n".join(leaks)
        missed = set(routes) - covered - private
        assert not missed, f"GET routes the scan did not reach: {missed}; give it the ids or links to reach them"
        # The officers' desk (with each reason), a round's list with its applications (scoring's
        # replays) and a final list's admitted (its owner's) want a key; another route that does should be meant to.
        assert private == {
            "/v1/objections",
            "/v1/rounds/{round_id}/candidates",
            "/v1/rounds/{round_id}/admitted",
        }, f"GET routes that turn a stranger away: {private}"
        # It saw the people, masked: the scan looked where they are.
        assert set(masked_seen) == {p.name for p in people}, f"never seen masked: {set(NAMES) - set(masked_seen)}"
        assert len(seen) > len(routes)
        assert (
            f"/notices/{OFFENDER.notice_id}" in about_offender and f"/v1/notices/{OFFENDER.notice_id}" in about_offender
        )
