"""The public pages (公示) in a real browser, on a phone: from the open lists into a round's ranked
list, a page further, a search by surname and by an ID number's last four, into one entry, and an
objection through the form: refused with the reasons in Chinese while incomplete (nothing stored),
what was typed shown back as text and never as markup, and taken with a receipt once complete.

Drives Debian's chromium (`/usr/bin/chromium`; `make test` installs it, see deploy/local/chromium.sh)
through Playwright; never a browser Playwright downloads. Screenshots of every step go to
test-artifacts/screenshots/. Also here: objections are limited per client address and hour.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, Response, async_playwright
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.masking import mask_id_number, mask_name
from shared.settings import Settings
from tests.integration.public_rounds import ROOT, Person, from_address, round_on_notice

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
SHOTS = ROOT / "test-artifacts" / "screenshots"
# Holders 2600–2624, under names of three or four characters; three share the surname 欧阳.
NAMES = [
    "欧阳明远",
    "欧阳晓峰",
    "欧阳雪梅",
    "司马文静",
    "诸葛云飞",
    "王建国",
    "王秀兰",
    "李思远",
    "李雨桐",
    "张子涵",
    "张浩然",
    "刘一鸣",
    "陈可欣",
    "杨博文",
    "赵雅琪",
    "黄俊杰",
    "周若曦",
    "吴天佑",
    "徐梦瑶",
    "孙嘉懿",
    "胡立新",
    "朱晨阳",
    "高明哲",
    "林书豪",
    "何静怡",
]
QUOTA = 10
# What someone might type: markup that would run, break out of the textarea or of an attribute if echoed raw.
REASON = "</textarea><script>alert(1)</script><img src=x onerror=alert(2)>学历积分有误，请重新核查。"
BAD_PHONE = '1"><b id=z>'  # 11 characters, as many as the field takes
CONTACT = "13912345678"


def require_chromium() -> None:
    if not Path(CHROMIUM).is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the public-page tests drive Debian's chromium. `make test` installs it "
            f"(deploy/local/chromium.sh); by hand: `apt-get install -y chromium`.",
            pytrace=False,
        )


async def _shot(page: Page, name: str) -> None:
    """A full-page screenshot of the step; and the page fits the phone's width (nothing scrolls sideways)."""
    await page.screenshot(path=str(SHOTS / f"browser-{name}.png"), full_page=True)
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"step {name}: the page is {overflow}px wider than a 390px phone"


async def _rows(page: Page) -> list[list[str]]:
    return await page.eval_on_selector_all(
        "#entries tbody tr", "trs => trs.map(tr => [...tr.cells].map(td => td.innerText.trim()))"
    )


async def _submit(page: Page) -> Response:
    async with page.expect_navigation() as navigation:
        await page.locator("#objection button[type=submit]").click()
    response = await navigation.value
    assert response is not None
    return response


async def _stored(engine, round_id: str) -> list:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                text("SELECT id, reason, contact_phone, items FROM publicity.objections WHERE round_id = :r"),
                {"r": round_id},
            )
        ).all()


async def test_a_phone_reads_the_list_searches_pages_and_objects(platform):
    require_chromium()
    people = [Person(2600 + i, name) for i, name in enumerate(NAMES)]
    by_masked_id = {mask_id_number(p.id_number): p for p in people}
    assert len(by_masked_id) == len(people)
    base = platform.url("publicity")
    async with httpx.AsyncClient(timeout=20) as client:
        rnd = await round_on_notice(client, platform, people, "web", quota=QUOTA)
    round_id, round_name = rnd["id"], rnd["name"]["zh"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(platform.database_url)
    dialogs: list[str] = []

    async def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    # Whatever the Content-Security-Policy blocks, chromium reports on the console: nothing may be.
    blocked: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(base_url=base, **PHONE)
            page = await context.new_page()
            page.on("dialog", on_dialog)
            page.on("console", on_console)

            # The open lists; into ours.
            home = await page.goto("/")
            assert home is not None and home.status == 200
            policy = await home.header_value("content-security-policy")
            assert policy is not None and "frame-ancestors 'none'" in policy and "script-src" not in policy
            # The page's own style sheet is allowed by the policy: the header is the city's red.
            assert (
                await page.eval_on_selector("header", "h => getComputedStyle(h).backgroundColor") == "rgb(180, 35, 42)"
            )
            card = page.locator(".card", has=page.get_by_role("link", name=round_name, exact=True))
            assert (
                "公示中" in await card.inner_text() and f"共{len(people)}人 · 入围{QUOTA}人" in await card.inner_text()
            )
            await _shot(page, "01-home")
            await page.get_by_role("link", name=round_name, exact=True).click()
            await page.wait_for_url(f"**/rounds/{round_id}")
            assert await page.locator("h1").inner_text() == round_name

            # The first page: ranks 1–20 in order, masked names that go with the masked ID numbers.
            first = await _rows(page)
            assert [int(r[0]) for r in first] == list(range(1, 21))
            for rank, name, masked_id, _score, result in first:
                person = by_masked_id[masked_id]
                assert name == mask_name(person.name) and name.endswith("**")
                assert result == ("入围" if int(rank) <= QUOTA else "未入围")
            assert [float(r[3]) for r in first] == sorted((float(r[3]) for r in first), reverse=True)
            html = await page.content()
            assert not [p.n for p in people if p.name in html or p.id_number in html]
            await _shot(page, "02-list")

            # 下一页: the rest, and no further page.
            assert await page.locator("#next").inner_text() == "下一页"
            await page.locator("#next").click()
            await page.wait_for_url(re.compile(r"after=20"))
            rest = await _rows(page)
            assert [int(r[0]) for r in rest] == list(range(21, len(people) + 1))
            assert float(rest[0][3]) <= float(first[-1][3])
            assert {r[2] for r in first + rest} == set(by_masked_id)
            assert await page.locator("#next").count() == 0
            await _shot(page, "03-next-page")

            # Search by surname: the three 欧阳, in rank order.
            await page.locator("input[name=q]").fill("欧")
            await page.get_by_role("button", name="搜索").click()
            await page.wait_for_url(re.compile(r"q=%E6%AC%A7"))
            found = await _rows(page)
            assert sorted(by_masked_id[r[2]].name for r in found) == ["欧阳明远", "欧阳晓峰", "欧阳雪梅"]
            assert all(r[1] == "欧***" for r in found) and [int(r[0]) for r in found] == sorted(
                int(r[0]) for r in found
            )
            assert await page.locator("input[name=q]").input_value() == "欧"
            await _shot(page, "04-search-surname")

            # Search by an ID number's last four: one person.
            wanted = people[7]
            await page.locator("input[name=q]").fill(wanted.id_number[-4:])
            await page.get_by_role("button", name="搜索").click()
            await page.wait_for_url(re.compile(rf"q={wanted.id_number[-4:]}"))
            found = await _rows(page)
            assert [(r[1], r[2]) for r in found] == [(mask_name(wanted.name), mask_id_number(wanted.id_number))]
            rank = found[0][0]
            await _shot(page, "05-search-id-tail")

            # The entry.
            await page.get_by_role("link", name=mask_name(wanted.name), exact=True).click()
            await page.wait_for_url(re.compile(rf"/rounds/{round_id}/entries/\d+$"))
            seq = int(page.url.rsplit("/", 1)[-1])
            assert f"第{seq}号" in await page.locator("h1").inner_text()
            assert await page.locator("#rank").inner_text() == rank
            card_text = await page.locator(".card").first.inner_text()
            assert mask_name(wanted.name) in card_text and mask_id_number(wanted.id_number) in card_text
            assert await page.locator("ul.lines li").count() > 1  # the points behind the score
            items = page.locator("#objection input[type=checkbox][name=items]")
            assert await items.count() >= 1
            assert await page.locator("#objection .error").all_inner_texts() == []  # no complaint before a try
            await _shot(page, "06-entry")

            # An empty objection: refused, each field saying why in Chinese, nothing stored.
            response = await _submit(page)
            assert response.status == 422
            assert "请至少选择一项" in await page.locator("#items-error").inner_text()
            assert "请填写异议理由（至少5个字）" in await page.locator("#reason-error").inner_text()
            assert await _stored(engine, round_id) == []
            await _shot(page, "07-empty-objection")

            # Markup as the reason and in the phone field, and a phone that is no phone: refused, and
            # what was typed comes back as text (escaped in the HTML), never as markup; nothing runs.
            await items.first.check()
            first_item_name = (await page.locator("#objection label.item").first.inner_text()).strip()
            assert first_item_name and not re.fullmatch(r"[a-z_]+", first_item_name)
            await page.locator("#reason").fill(REASON)
            await page.locator("#contact_phone").fill(BAD_PHONE)
            assert await page.locator("#contact_phone").input_value() == BAD_PHONE
            response = await _submit(page)
            assert response.status == 422
            raw = await response.text()
            assert "<script" not in raw and "<img" not in raw and BAD_PHONE not in raw and "<b id=z>" not in raw
            assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in raw
            assert await page.locator("#reason").input_value() == REASON
            assert await page.locator("#contact_phone").input_value() == BAD_PHONE
            assert await items.first.is_checked()
            assert await page.locator("script, img, #z").count() == 0 and dialogs == []
            phone_error = page.locator("#objection p.error", has_text="手机号码")
            assert "请填写11位手机号码" in await phone_error.inner_text()
            assert await page.locator("#items-error, #reason-error").all_inner_texts() == []
            assert await _stored(engine, round_id) == []
            await _shot(page, "08-markup-and-bad-phone")

            # Complete: taken, and the receipt shows its number and that it is being looked into.
            await page.locator("#contact_phone").fill(CONTACT)
            response = await _submit(page)
            assert response.status == 200 and "/objections/OBJ-" in response.url
            assert response.request.redirected_from is not None
            redirect = await response.request.redirected_from.response()
            assert redirect is not None and redirect.status == 303
            receipt_id = await page.locator("#receipt-id").inner_text()
            assert re.fullmatch(r"OBJ-\d{8}-[0-9A-F]{10}", receipt_id)
            assert page.url.endswith(f"/objections/{receipt_id}")
            assert await page.locator("#receipt-status").inner_text() == "核查中"
            # The item by the name the entry page showed it under, not the indicator's id.
            assert await page.locator("#receipt-items").inner_text() == first_item_name
            raw = await response.text()
            assert "alert(" not in raw and CONTACT not in raw and "学历积分有误" not in raw
            assert dialogs == []
            await _shot(page, "09-receipt")
            stored = await _stored(engine, round_id)
            assert [(s.id, s.reason, s.contact_phone) for s in stored] == [(receipt_id, REASON, CONTACT)]

            # Back to the entry: the reason is nowhere on it.
            await page.get_by_role("link", name="返回公示条目", exact=True).click()
            await page.wait_for_url(f"**/rounds/{round_id}/entries/{seq}")
            assert "alert(" not in await page.content() and dialogs == []
            await _shot(page, "10-entry-again")

            # A link that leads nowhere (a mistyped round, an entry past the end): a page that says so, in Chinese.
            for wrong in ("/rounds/RND-NO-SUCH-ROUND", f"/rounds/{round_id}/entries/99999", "/objections/OBJ-NONE"):
                missing = await page.goto(wrong)
                assert missing is not None and missing.status == 404, wrong
                assert await page.locator("h1").inner_text() == "未找到"
                await page.get_by_role("link", name="返回公示首页", exact=True).wait_for()
            await _shot(page, "11-not-found")
            assert blocked == [], blocked
        finally:
            await browser.close()
            await engine.dispose()


async def test_partners_still_get_problem_documents(platform):
    """Error pages are for people's browsers; partners and scripts keep RFC 9457 documents."""
    base = platform.url("publicity")
    async with httpx.AsyncClient(timeout=10) as client:
        for path, accept in (
            ("/v1/rounds/RND-NO-SUCH-ROUND", "text/html"),
            ("/rounds/RND-NO-SUCH-ROUND", "application/json"),
            ("/rounds/RND-NO-SUCH-ROUND", "*/*"),
        ):
            r = await client.get(base + path, headers={"Accept": accept})
            assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", (path, accept)
            assert r.json()["status"] == 404
        r = await client.get(base + "/no/such/page", headers={"Accept": "text/html,application/xhtml+xml"})
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "未找到" in r.text


def _objection_limit(platform) -> int:
    env = {k.upper(): v for k, v in {**os.environ, **platform.env("publicity")}.items()}
    return int(env.get("OBJECTIONS_PER_CLIENT_HOUR", Settings.model_fields["objections_per_client_hour"].default))


async def test_objections_are_limited_per_client_address(platform):
    """Every test shares the session's count at 127.0.0.1, so this one lodges from 127.0.0.2 (all of
    127/8 is this machine: a real peer address, no proxy header trusted) and fills its own count."""
    limit, base = _objection_limit(platform), platform.url("publicity")
    async with from_address("127.0.0.2") as client, from_address("127.0.0.4") as neighbour:
        rnd = await round_on_notice(client, platform, [Person(2690, "慕容云海")], "limit", quota=1)
        entry = (await client.get(f"{base}/v1/rounds/{rnd['id']}/entries/1")).json()
        item = next(line["indicator"] for line in entry["lines"] if line.get("department"))
        body = {"round_id": rnd["id"], "entry": 1, "items": [item], "reason": "积分有误，请重新核查。"}
        for i in range(limit):
            r = await client.post(f"{base}/v1/objections", json=body)
            assert r.status_code == 201, f"objection {i + 1} of {limit}: {r.text}"

        over = await client.post(f"{base}/v1/objections", json=body)
        assert over.status_code == 429, over.text
        assert over.headers["content-type"].startswith("application/problem+json")
        assert 0 < int(over.headers["retry-after"]) <= 3600
        problem = over.json()
        assert problem["type"] == "/problems/rate-limited" and problem["status"] == 429
        assert problem["title"] == "Too many requests" and f"at most {limit} an hour" in problem["detail"]

        # The form is held back as well, and says so on the page.
        page = await client.post(
            f"{base}/rounds/{rnd['id']}/entries/1/objection", data={"items": item, "reason": "积分有误，请重新核查。"}
        )
        assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
        assert 'id="error-summary"' in page.text and "提交过于频繁，请稍后再试。" in page.text
        assert "Too many" not in page.text  # the page speaks Chinese, the problem document English
        engine = create_async_engine(platform.database_url)
        try:
            async with engine.connect() as conn:
                assert (
                    await conn.scalar(
                        text("SELECT count(*) FROM publicity.objections WHERE round_id = :r"), {"r": rnd["id"]}
                    )
                    == limit
                )
        finally:
            await engine.dispose()

        # Someone else, at another address, is not.
        assert (await neighbour.post(f"{base}/v1/objections", json=body)).status_code == 201
