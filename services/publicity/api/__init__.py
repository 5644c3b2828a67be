"""Publicity over HTTP: JSON for partners and officers, HTML pages for citizens. Thin: parse,
authorise, call a use case (or read through the store), render."""

from __future__ import annotations

from services.publicity.api import (
    admitted,
    campaign_page,
    estimate_page,
    notices,
    objections,
    pages,
    round_candidates,
    rounds,
)

ROUTERS = [
    notices.router,
    rounds.router,
    round_candidates.router,
    admitted.router,
    objections.router,
    pages.router,
    estimate_page.router,
    campaign_page.router,
]
