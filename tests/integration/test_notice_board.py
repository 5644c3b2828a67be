"""The notice board as people use it, on real services: one entry per application (the current
score), earlier versions in the notice's history marked superseded, keyset pages that show every
application exactly once, search by surname or the ID number's last four, and the objection form
on a score notice during its notice period: lodged from the page, answered by a new version that
takes the old one's place.

Objections from 127.0.0.13 (limited per address); holders 2810–2812.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.helpers import wait_for
from tests.integration.public_rounds import Person, apply, from_address

pytestmark = pytest.mark.integration

HTML = {"Accept": "text/html"}


def board_entries(page: str) -> list[str]:
    """The notice ids a board page lists, in order."""
    return re.findall(r'<li class="card"><a href="/notices/(NTC-[0-9A-F-]+)">', page)


async def whole_board(client: httpx.AsyncClient, base: str, q: str = "") -> list[str]:
    """Every notice on the board, following the pages' own 下一页 links."""
    seen: list[str] = []
    url = f"{base}/notices" + (f"?q={q}" if q else "")
    for _ in range(500):
        r = await client.get(url, headers=HTML)
        assert r.status_code == 200, r.text
        seen += board_entries(r.text)
        nxt = re.search(r'<a id="next" href="([^"]+)"', r.text)
        if nxt is None:
            return seen
        url = base + nxt.group(1).replace("&amp;", "&")
    raise AssertionError("the board's pages never end")


async def test_the_board_lists_each_application_once_and_a_notice_takes_objections(platform):
    people = [Person(2810, "端木清风"), Person(2811, "端木明月"), Person(2812, "澹台子瑜")]
    base = platform.url("publicity")
    async with httpx.AsyncClient(timeout=30) as client, from_address("127.0.0.13") as objector:
        await apply(client, platform, people)
        first = people[0].notice_id

        # The score notice has an objection form, listing only the items a department re-verifies.
        page = (await client.get(f"{base}/notices/{first}", headers=HTML)).text
        assert 'id="objection"' in page and 'name="items" value="education"' in page
        refused = await objector.post(
            f"{base}/notices/{first}/objection", data={"reason": "短"}, headers=HTML, follow_redirects=False
        )
        assert refused.status_code == 422
        assert 'id="error-summary"' in refused.text and "请至少选择一项需要核查的事项" in refused.text
        lodged = await objector.post(
            f"{base}/notices/{first}/objection",
            data={"items": "education", "reason": "学历信息有误，请重新核查。"},
            headers=HTML,
            follow_redirects=False,
        )
        assert lodged.status_code == 303 and lodged.headers["location"].startswith("/objections/OBJ-")

        # The departments answer; the new score version goes on notice and takes the old one's place.
        async def two_versions():
            r = await client.get(f"{base}/v1/notices", params={"application_id": people[0].application_id})
            docs = r.json()
            return len(docs) == 2 and docs

        versions = await wait_for("publicity: a new notice after the objection", two_versions, timeout=60)
        current = next(d for d in versions if d["current"])
        assert current["score_version"] == 2 and current["id"] != first
        old_page = (await client.get(f"{base}/notices/{first}", headers=HTML)).text
        assert 'id="superseded"' in old_page and f'href="/notices/{current["id"]}"' in old_page
        assert 'id="objection"' not in old_page  # objections go to the current notice
        new_page = (await client.get(f"{base}/notices/{current['id']}", headers=HTML)).text
        assert "已被取代" in new_page and "当前有效" in new_page and 'id="objection"' in new_page

        # Every application once, across pages: the old notice is gone, the new one there.
        board = await whole_board(client, base)
        assert len(board) == len(set(board))
        assert current["id"] in board and first not in board
        assert people[1].notice_id in board and people[2].notice_id in board

        # Search by surname (the masked name's first character) and by the ID number's last four.
        docs = {p.notice_id: (await client.get(f"{base}/v1/notices/{p.notice_id}")).json() for p in people[1:]}
        for notice_id, doc in docs.items():
            by_surname = await whole_board(client, base, doc["holder"][0])
            by_tail = await whole_board(client, base, doc["id_number"][-4:])
            assert notice_id in by_surname and notice_id in by_tail
            for other_id, other in docs.items():
                if other["holder"][0] != doc["holder"][0]:
                    assert other_id not in by_surname
                if other["id_number"][-4:] != doc["id_number"][-4:]:
                    assert other_id not in by_tail
