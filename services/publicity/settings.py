"""Publicity's own settings (read from the environment, documented in the README's settings table).

The rate limits (OBJECTIONS_PER_CLIENT_HOUR, REVIEWS_PER_*) and the candidate key salt stay in
shared.settings: shared code (shared.ratelimit, the secrets check) reads them.
"""

from __future__ import annotations

from functools import lru_cache

from shared.settings import Settings


class PublicitySettings(Settings):
    # The public address put in links (a notice's url in notice.published).
    publicity_base_url: str = "http://127.0.0.1:8004"
    notice_period_working_days: int = 7
    # How often publicity closes rounds whose acceptance ended, finalises lists and sends notifications.
    publicity_sweep_seconds: float = 60.0
    # Score notifications: "outbox" keeps them in publicity.notifications (local runs, tests);
    # "sms" posts them to the SMS gateway.
    notifier: str = "outbox"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    # Joining or leaving a 模拟积分 campaign on the estimate page, per address and hour: each try
    # checks an invitation's one-time code, so fewer than the estimate's.
    campaign_proofs_per_client_hour: int = 20


@lru_cache
def get_settings() -> PublicitySettings:
    return PublicitySettings()
