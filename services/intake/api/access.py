"""Who may call intake's partner endpoints at all (what each may see is the use cases' business)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from shared.auth import Principal, require_any

# The channels that apply for holders; an employer's key (scope employer:<credit code>) applies for its staff.
APPLY_SCOPES = {"window", "online", "guardian", "admin"}


def require_applicant(principal: Principal) -> None:
    if principal.scoped_values("employer"):
        return
    require_any(principal, APPLY_SCOPES)


def settings_of(request: Request) -> Any:
    return request.app.state.settings
