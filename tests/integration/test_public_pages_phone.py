"""Every public page on a 360 px phone, in a real browser: nothing wider than the screen, the page
in Chinese (`lang="zh-CN"`, no English words or codes in what it says), every input tied to a
label, every text at WCAG AA contrast; and 模拟积分 used as a holder would, from an empty form
through refused input (summarised at the top) to the points line by line. The simulation report
(the policy office's, on a phone too) fits the screen as well, its wide tables scrolling inside
their own box. A screenshot of each page lands in test-artifacts/phone-360/.

Drives Debian's chromium as test_public_pages_browser.py does. Holder 2813; an objection from
127.0.0.13.
"""

from __future__ import annotations

import re

import httpx
import numpy as np
import pytest
from playwright.async_api import Page, async_playwright

from services.scoring.engine.rules import load_shipped
from services.scoring.simulation.cli import EXAMPLE
from services.scoring.simulation.compare import Comparison, Line
from services.scoring.simulation.drafts import parse_draft
from services.scoring.simulation.population import from_arrow
from services.scoring.simulation.report import write_report
from shared.synthetic.holders import DEFAULT_AS_OF, generate
from tests.integration.campaigns import open_public_campaign
from tests.integration.public_rounds import ROOT, Person, from_address, round_on_notice
from tests.integration.test_public_pages_browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.integration

PHONE_360 = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
SHOTS = ROOT / "test-artifacts" / "phone-360"
# Identifiers a page may print as they are (they are what one quotes to an office), masked ID
# numbers, and the tests' own module names (public_rounds.own_module: "（web 1a2b3c）").
IDENTIFIERS = re.compile(r"\b(?:NTC|OBJ|REV|RND|APP)-[0-9A-Z-]+|\d{4}\*+\d{3}[\dX]|（[a-z]+ [0-9a-f]{6}）")
WORD = re.compile(r"[A-Za-z]{2,}")

# WCAG 2.x contrast of each element's own text against the first opaque background behind it.
CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || style.visibility === 'hidden' || style.display === 'none' || el.offsetWidth < 2) continue;
    const fg = lum(rgb(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) low.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return low;
}"""
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => !['hidden', 'submit', 'button'].includes(e.type))
  .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id)"""


async def check_page(page: Page, name: str) -> None:
    """The checks every public page passes, and its screenshot."""
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    width = await page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"
    )
    assert width <= 0, f"{name}: {width}px wider than the 360px screen"
    assert await page.evaluate("document.documentElement.lang") == "zh-CN", name
    assert await page.evaluate(UNLABELLED) == [], f"{name}: inputs without a label"
    assert await page.evaluate(CONTRAST) == [], f"{name}: text below WCAG AA contrast"
    said = IDENTIFIERS.sub("", await page.evaluate("document.body.innerText"))
    assert WORD.findall(said) == [], f"{name}: English or codes a citizen would read"


async def test_every_public_page_fits_a_360px_phone_in_chinese(platform):
    require_chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    person = Person(2813, "公孙止水")
    base = platform.url("publicity")
    async with httpx.AsyncClient(timeout=30) as client, from_address("127.0.0.13") as objector:
        rnd = await round_on_notice(client, platform, [person], "phone", quota=1)
        lodged = await objector.post(
            f"{base}/v1/objections",
            json={"round_id": rnd["id"], "entry": 1, "items": ["education"], "reason": "学历信息有误，请核查。"},
        )
        assert lodged.status_code == 201, lodged.text
        campaign = await open_public_campaign(client, platform, "手机页面调查")
    pages = {
        "home": "/",
        "round": f"/rounds/{rnd['id']}",
        "round-search": f"/rounds/{rnd['id']}?q={person.id_number[-4:]}",
        "entry": f"/rounds/{rnd['id']}/entries/1",
        "receipt": f"/objections/{lodged.json()['id']}",
        "board": "/notices",
        "notice": f"/notices/{person.notice_id}",
        "estimate": "/estimate",
        "estimate-linked": "/estimate?birth_date=1990-05-01&education=bachelor&employed=1&insurance_months=103"
        "&residence_years=8&rental_years=7&volunteer_hours=45&honours=city&offences=detention",
        "campaign": f"/estimate/campaigns/{campaign}?birth_date=1990-05-01&education=bachelor&residence_years=8",
        "not-found": "/notices/NTC-NO-SUCH-NOTICE",
    }
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(base_url=base, **PHONE_360)).new_page()
            for name, path in pages.items():
                response = await page.goto(path)
                assert response is not None and response.status == (404 if name == "not-found" else 200), name
                await check_page(page, name)
            assert await page.locator("h1").inner_text() == "未找到"

            # 模拟积分 by hand: nothing typed yet is refused at the top of the form, the field named.
            await page.goto("/estimate")
            await page.locator("#residence_years").fill("8")
            async with page.expect_navigation():
                await page.get_by_role("button", name="计算积分").click()
            summary = page.locator("#error-summary")
            assert "出生日期" in await summary.inner_text()
            await check_page(page, "estimate-refused")
            # Corrected: the points, line by line, each with how it was computed.
            await page.get_by_label("出生日期（必填）").fill("1990-05-01")
            await page.get_by_label("最高学历").select_option(label="本科")
            await page.get_by_label("在杭合法稳定就业").check()
            async with page.expect_navigation():
                await page.get_by_role("button", name="计算积分").click()
            result = page.locator("#result")
            text = await result.inner_text()
            assert "估算结果" in text and "杭州市居住证积分指标体系（2021年版）" in text
            assert "居住登记年限：8年；每满1年计5分，最高100分；计40分。" in text
            assert "文化程度：最高一项为本科；" in text
            assert await page.locator("#error-summary").count() == 0
            await check_page(page, "estimate-result")

            # 模拟积分调查 from the page: joining without consent is refused at the top, in Chinese.
            async with page.expect_navigation():
                await page.get_by_role("link", name="参加或退出调查").first.click()
            await page.get_by_label("身份证号").first.fill("110101199001011237")
            await page.get_by_label("居住证号").fill("ZJ330100-000001")
            await page.get_by_label("邀请短信中的验证码").first.fill("12345678")
            async with page.expect_navigation():
                await page.get_by_role("button", name="同意并参加").click()
            assert "未经本人同意不能参加调查" in await page.locator("#error-summary").inner_text()
            await check_page(page, "campaign-refused")
        finally:
            await browser.close()


async def test_the_simulation_report_reads_on_a_360px_phone(tmp_path):
    require_chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    rules = load_shipped()
    draft = parse_draft(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name, rules)
    comparison = Comparison(rules["hangzhou-2021"], draft, DEFAULT_AS_OF, line=Line(quota=2_000))
    comparison.add(from_arrow(generate(np.arange(1, 20_001))))
    report = write_report(comparison.summary(), tmp_path / "report")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(**PHONE_360)).new_page()
            await page.goto(report.as_uri())
            await page.screenshot(path=str(SHOTS / "simulation-report.png"), full_page=True)
            width = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert width <= 0, f"the report is {width}px wider than the 360px screen"
            assert await page.evaluate(CONTRAST) == [], "report text below WCAG AA contrast"
            # Every chart fits the screen; every key sits under its chart, whole, in the page's text.
            widths = await page.eval_on_selector_all("svg", "svgs => svgs.map(s => s.getBoundingClientRect().width)")
            assert widths and max(widths) <= 360
            key = await page.locator("#distribution-key").inner_text()
            assert "现行入围线" in key or "入围线（前后相同）" in key
            assert "人新达线" in await page.locator("#headline").inner_text()
        finally:
            await browser.close()
