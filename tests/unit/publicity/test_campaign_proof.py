"""The estimate page's proof for a 模拟积分 campaign: the invitation's code, over the fake store."""

from __future__ import annotations

import re
from datetime import date, timedelta

from services.publicity import domain
from services.publicity.campaigns import use_cases
from services.publicity.handlers import Deps, handlers
from shared.events import Envelope
from shared.events.catalogue import CampaignInvited, CampaignOpened
from shared.pseudonyms import holder_key
from tests.fakes import FakeUnitOfWork, InMemoryBus
from tests.unit.publicity.fake_store import FakeStore

SALT, CID, TODAY = "salt", "CMP-20261130-ABCDEF", date(2026, 11, 30)
LAST = TODAY + timedelta(days=3)
HOLDER, OTHER = "330106199001011234", "330106199202022345"


async def invited_store() -> tuple[FakeStore, str]:
    """A campaign open today and one holder invited (twice delivered); the code their SMS carries."""
    store = FakeStore()
    bus = InMemoryBus(handlers(Deps(SALT, 7, "https://gs.example")), store)
    opened = CampaignOpened(campaign_id=CID, title_zh="调查", consent_text="同意", opens_on=TODAY, closes_on=LAST)
    invited = CampaignInvited(
        campaign_id=CID,
        number=1,
        title_zh="调查",
        closes_on=LAST,
        phone="13900000001",
        holder_key=holder_key(HOLDER, SALT),
    )
    events = [
        Envelope.new(opened, source="scoring", subject=CID),
        Envelope.new(invited, source="verification", subject=CID),
    ]
    await bus.follow([*events, events[1]])
    assert len(store.notifications) == 1 and len(store.campaign_codes) == 1
    found = re.search(r"验证码(\d{8})", store.notifications[0].body)
    assert found
    return store, found.group(1)


async def test_the_invitation_code_proves_the_holder_and_nobody_else():
    store, code = await invited_store()
    assert [c.id for c in await store.open_campaigns(TODAY)] == [CID]
    uow = FakeUnitOfWork(store)
    assert await use_cases.proved(uow, CID, HOLDER, code, SALT)
    assert not await use_cases.proved(uow, CID, OTHER, code, SALT)  # not invited: refused, nothing counted
    assert not await use_cases.proved(uow, "CMP-OTHER", HOLDER, code, SALT)
    assert store.campaign_codes[(CID, holder_key(HOLDER, SALT))].failures == 0
    assert code not in str(store.campaign_codes)  # only its hash is kept


async def test_five_wrong_codes_lock_the_holders_code():
    store, code = await invited_store()
    uow = FakeUnitOfWork(store)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _ in range(domain.MAX_CODE_FAILURES):
        assert not await use_cases.proved(uow, CID, HOLDER, wrong, SALT)
    assert not await use_cases.proved(uow, CID, HOLDER, code, SALT)


async def test_a_closed_campaign_and_its_codes_go():
    store, _code = await invited_store()
    uow = FakeUnitOfWork(store)
    await use_cases.forget_closed(uow, LAST)  # its last day: still open, the codes still prove
    assert len(store.campaigns) == 1 and len(store.campaign_codes) == 1
    await use_cases.forget_closed(uow, LAST + timedelta(days=1))
    assert store.campaigns == {} and store.campaign_codes == {}
    assert await use_cases.open_campaign(store, CID, LAST) is None
