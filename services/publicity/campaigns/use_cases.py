"""The public road into a 模拟积分 campaign: whether the person at the page is the invited holder.

The proof is what only the holder has: the one-time code their invitation SMS carried (to the phone
the police register holds for their permit), beside their ID number. A stranger who knows someone's
ID and permit numbers cannot enrol them or withdraw them: without the code the answer is the same
refusal whether the person exists, was invited, or not. Wrong codes are counted per holder and
campaign, and the code is refused for good after domain.MAX_CODE_FAILURES; the page's per-address
limit bounds one client's guesses across holders.
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import Any

from services.publicity import domain
from shared.pseudonyms import holder_key


async def open_campaign(store: Any, campaign_id: str, today: date) -> Any:
    """The campaign if the page may offer it today, else None."""
    row = await store.campaign(campaign_id)
    return row if row is not None and row.opens_on <= today <= row.closes_on else None


async def proved(uow: Any, campaign_id: str, id_number: str, code: str, salt: str) -> bool:
    """Whether the code is the one texted to this ID number's holder for the campaign; a wrong code
    counts against the holder's code (commit the unit of work either way)."""
    key = holder_key(id_number, salt)
    row = await uow.store.campaign_code(campaign_id, key)
    if row is None:
        return False  # not invited (or no such person): the same refusal as a wrong code
    if row.failures >= domain.MAX_CODE_FAILURES:
        return False
    if hmac.compare_digest(row.code_hash, domain.code_hash(campaign_id, code)):
        return True
    await uow.store.campaign_code_failed(campaign_id, key)
    return False


async def forget_closed(uow: Any, today: date) -> None:
    """A campaign past its last day is offered no more, and its codes prove nothing: both go."""
    await uow.store.forget_closed_campaigns(today)
