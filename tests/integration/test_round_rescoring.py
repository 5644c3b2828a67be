"""A round's candidates are re-scored at the ROUND's cut-off (issue 18): the holders applied with
facts counted up to their own cut-off (the month before they applied); the round's cut-off is a
year earlier. When it closes, every entry's score is the module total at the round's cut-off,
worked out here from the facts the test gives each holder (residence since a day, social
insurance since a month: both count less a year earlier). No notice and no message come of the
round's scores; the holder's score history keeps both; an objection during the notice moves the
entry by the application re-scored at the round's cut-off, not by its own new score."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.verification.seed import demo_id_number
from shared import clock
from shared.calendar import cut_off_date
from tests.integration.helpers import WINDOW_SCORES, close_round, wait_for
from tests.integration.public_rounds import MODULE_OWNER, Person, apply, from_address, own_module

pytestmark = pytest.mark.integration

# The facts each holder is given: residence registered since R (still registered), pension paid
# every month since I (through 2030), a bachelor's degree of 2010; nothing else dated (see DATED).
# With the age (from the ID number), these are what count differently a year earlier.
FACTS = {2561: (date(2016, 1, 10), date(2018, 1, 1)), 2562: (date(2018, 7, 1), date(2019, 6, 1))}
FACTS[2563] = (date(2020, 3, 15), date(2021, 9, 1))
# The registries' records that count by date (inside a look-back, or only once before the cut-off):
# the test's holders have none but those it gives them, and a bachelor's degree of 2010.
DATED = (
    "police_residence",
    "police_residence_districts",
    "social_insurance_spans",
    "education_degrees",
    "tax_payments",
    "volunteer_records",
    "blood_donations",
    "charity_donations",
    "credit_listings",
    "police_offences",
    "honours",
    "patents",
    "investments",
    "hr_qualifications",
    "housing_homes",
    "housing_rentals",
    "family_planning_records",
)
OBJECTOR = "127.0.0.16"  # this module's own client address for objections (see public_rounds.from_address)


def residence_points(since: date, cut_off: date) -> float:
    """5 points a full year of registration before the cut-off (a year: 12 months of 30 days), at most 100."""
    return min(5.0 * (((cut_off - since).days // 30) // 12), 100.0)


def insurance_points(since: date, cut_off: date) -> float:
    """0.5 points a month paid before the cut-off's month, at most 120 points."""
    months = (cut_off.year * 12 + cut_off.month) - (since.year * 12 + since.month)
    return min(0.5 * months, 120.0)


def age_points(birth: date, cut_off: date) -> float:
    """Completed years on the cut-off: 43 or younger 30; 44 to 55, 7 at 55 plus 2 a year younger;
    56 to 60: 5; older: 0 (docs/rules.md)."""
    age = cut_off.year - birth.year - ((cut_off.month, cut_off.day) < (birth.month, birth.day))
    if age <= 43:
        return 30.0
    if age <= 55:
        return 7.0 + 2 * (55 - age)
    return 5.0 if age <= 60 else 0.0


def birth_date(n: int) -> date:
    digits = demo_id_number(n)[6:14]  # an ID number carries the birth date, YYYYMMDD
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def at(n: int, cut_off: date) -> float:
    """The points the dated facts give at a cut-off: residence, social insurance and age."""
    residence, insurance = FACTS[n]
    return (
        residence_points(residence, cut_off) + insurance_points(insurance, cut_off) + age_points(birth_date(n), cut_off)
    )


def counted_less(n: int, own_cut_off: date, round_cut_off: date) -> float:
    """How many points a holder's dated facts give fewer at the round's cut-off than at their own."""
    return at(n, own_cut_off) - at(n, round_cut_off)


async def give_facts(engine, n: int) -> None:
    residence, insurance = FACTS[n]
    id_number = demo_id_number(n)
    async with engine.begin() as conn:
        for table in DATED:
            await conn.execute(text(f"DELETE FROM registries.{table} WHERE id_number = :id"), {"id": id_number})
        await conn.execute(
            text("INSERT INTO registries.education_degrees VALUES (:id, 'bachelor', :d, false, false)"),
            {"id": id_number, "d": date(2010, 7, 1)},
        )
        await conn.execute(
            text("INSERT INTO registries.police_residence (id_number, start_date, end_date) VALUES (:id, :s, NULL)"),
            {"id": id_number, "s": residence},
        )
        await conn.execute(
            text(
                "INSERT INTO registries.social_insurance_spans (id_number, start_month, end_month, kind, "
                "transferred_in, back_paid) VALUES (:id, :s, :e, 'pension', false, false)"
            ),
            {"id": id_number, "s": insurance, "e": date(2030, 12, 1)},
        )


async def scoring_doc(client: httpx.AsyncClient, platform, app_id: str, version: int | None = None) -> dict:
    path = f"/v1/scores/{app_id}" + (f"/versions/{version}" if version else "")
    r = await client.get(f"{platform.url('scoring')}{path}", headers=WINDOW_SCORES)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_round_ranks_its_candidates_re_scored_at_its_own_cut_off(platform):
    engine = create_async_engine(platform.database_url)
    today = clock.today()
    own_cut_off = cut_off_date(today)
    round_cut_off = date(own_cut_off.year - 1, own_cut_off.month, 1)
    people = [Person(2561, "钱多多"), Person(2562, "孙小美"), Person(2563, "阿土伯")]
    for p in people:
        await give_facts(engine, p.n)
    async with httpx.AsyncClient(timeout=20) as client:
        module_id, _ = await own_module(client, platform, "rescore")
        await apply(client, platform, people, [module_id])
        own = {p.application_id: await scoring_doc(client, platform, p.application_id) for p in people}
        assert {d["cut_off_date"] for d in own.values()} == {own_cut_off.isoformat()}
        by_app = {p.application_id: p for p in people}

        async def messages() -> tuple[int, int]:
            async with engine.connect() as conn:
                ids = list(by_app)
                sent = (
                    "SELECT count(*) FROM publicity.notifications WHERE application_id = ANY(:a) AND round_id IS NULL"
                )
                shown = "SELECT count(*) FROM publicity.notices WHERE application_id = ANY(:a)"
                return (await conn.scalar(text(sent), {"a": ids}), await conn.scalar(text(shown), {"a": ids}))

        before = await messages()
        assert before == (len(people), len(people))

        base = platform.url("publicity")
        opened = await client.post(
            f"{base}/v1/rounds",
            headers=MODULE_OWNER,
            json={
                "module_id": module_id,
                "acceptance_opens": (round_cut_off + timedelta(days=40)).isoformat(),
                "acceptance_closes": today.isoformat(),
                "cut_off_date": round_cut_off.isoformat(),
                "quota": 2,
            },
        )
        assert opened.status_code == 201, opened.text
        round_id = opened.json()["id"]
        doc = await close_round(client, base, round_id, MODULE_OWNER)
        assert doc["entries"] == len(people) and doc["rescored_at_cut_off"] is True

        # Every entry's score: the module total at the round's cut-off, worked out from the facts.
        entries = (await client.get(f"{base}/v1/rounds/{round_id}/entries")).json()["items"]
        async with engine.connect() as conn:
            app_of = dict(
                (
                    await conn.execute(
                        text("SELECT seq, application_id FROM publicity.round_entries WHERE round_id = :r"),
                        {"r": round_id},
                    )
                ).all()
            )
        for e in entries:
            app_id = app_of[e["entry"]]
            less = counted_less(by_app[app_id].n, own_cut_off, round_cut_off)
            assert less > 0
            assert e["score"] == pytest.approx(own[app_id]["explanation"]["modules"][module_id]["total"] - less)
        assert [e["score"] for e in entries] == sorted((e["score"] for e in entries), reverse=True)
        assert [e["admitted"] for e in entries] == [True, True, False]

        # The public page says so, in Chinese.
        page = (await client.get(f"{base}/rounds/{round_id}")).text
        assert f"按本批次积分截止日（{round_cut_off.isoformat()}）重新计分" in page

        # No notice and no score message came of the round's scores ...
        assert await messages() == before

        # ... but the sweep tells each candidate their place on the list, in Chinese, with the notice period.
        async def told_everyone() -> dict[str, str] | None:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT application_id, body FROM publicity.notifications WHERE round_id = :r"),
                    {"r": round_id},
                )
                told = dict(rows.all())
            return told if set(told) == set(by_app) else None

        told = await wait_for("publicity: every candidate told of the list", told_everyone)
        for e in entries:
            body = told[app_of[e["entry"]]]
            assert f"重新计分{e['score']:g}分，排名第{e['rank']}位（共3人）" in body, body
            assert ("在拟录取范围内" if e["admitted"] else "暂未进入拟录取范围") in body
            # After the reference and the round's name (this test's own), no codes or English.
            after_reference = body.split(app_of[e["entry"]], 1)[1].split("”", 1)[1]
            assert "公示期" in body and "异议" in body and not any("a" <= c.lower() <= "z" for c in after_reference)

        # The holder's history keeps both: their own score, and the round's (at the round's cut-off).
        for app_id, p in by_app.items():
            doc = await scoring_doc(client, platform, app_id)
            assert doc["version"] == 1 and doc["cut_off_date"] == own_cut_off.isoformat()
            assert [(h["kind"], h["round_id"], h["cut_off_date"]) for h in doc["history"]] == [
                ("application", None, own_cut_off.isoformat()),
                ("round", round_id, round_cut_off.isoformat()),
            ]
            kept = await scoring_doc(client, platform, app_id, doc["history"][1]["version"])
            lines = {line["indicator"]: line["points"] for line in kept["explanation"]["lines"]}
            residence, insurance = FACTS[p.n]
            assert lines["residence"] == residence_points(residence, round_cut_off)
            assert lines["social_insurance"] == insurance_points(insurance, round_cut_off)
            assert lines["age"] == age_points(birth_date(p.n), round_cut_off)

        # An objection during the notice: the registry missed a doctorate of the last entry's holder.
        last = entries[-1]
        objected = by_app[app_of[last["entry"]]]
        async with engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM registries.education_degrees WHERE id_number = :id"), {"id": objected.id_number}
            )
            await conn.execute(
                text("INSERT INTO registries.education_degrees VALUES (:id, 'doctorate', :d, false, false)"),
                {"id": objected.id_number, "d": date(2012, 7, 1)},
            )
        async with from_address(OBJECTOR) as public:
            lodged = await public.post(
                f"{base}/v1/objections",
                json={
                    "round_id": round_id,
                    "entry": last["entry"],
                    "items": ["education"],
                    "reason": "该申请人具有博士学位，公示学历积分有误。",
                },
            )
        assert lodged.status_code == 201, lodged.text

        async def re_scored():
            doc = await scoring_doc(client, platform, objected.application_id)
            return len(doc["history"]) == 4 and doc

        doc = await wait_for("scoring: the application and the round re-scored", re_scored, timeout=60)
        assert [(h["kind"], h["based_on_version"]) for h in doc["history"]][2:] == [
            ("application", None),
            ("round", doc["version"]),
        ]
        new_own = doc["explanation"]["modules"][module_id]["total"]
        assert new_own > own[objected.application_id]["explanation"]["modules"][module_id]["total"]
        expected = new_own - counted_less(objected.n, own_cut_off, round_cut_off)

        async def moved():
            entry = (await client.get(f"{base}/v1/rounds/{round_id}/entries/{last['entry']}")).json()
            return entry["score"] != last["score"] and entry

        entry = await wait_for("publicity: the entry moved by its round score", moved, timeout=60)
        assert entry["score"] == pytest.approx(expected) and entry["score"] != new_own
        assert entry["history"][0]["score"] == last["score"]
        # The objection's re-score is an ordinary score: its notice and message, and nothing more.
        assert await messages() == (before[0] + 1, before[1] + 1)
    await engine.dispose()
