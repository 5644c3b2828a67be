"""Verification's own settings (environment variables, documented in the README's settings table)."""

from __future__ import annotations

import re
from functools import lru_cache

from shared.departments import DEPARTMENTS, OWNER_PATTERN
from shared.settings import Settings


class VerificationSettings(Settings):
    # Where the SQL registry adapter finds the departments' registries (default: DATABASE_URL).
    registry_database_url: str | None = None
    # The departments a verification process answers for (comma-separated; empty: all of them).
    verification_departments: str = ""
    # The module owners whose facts this process answers, each as its own verifier (comma-separated;
    # each registers its registry through the API; empty: none).
    verification_owners: str = "district:binjiang"
    # A data-sharing platform's HTTP API instead (the HTTP adapter: timeouts, retries, circuit breaker).
    registry_base_url: str | None = None
    # How often each department's audit chain head is anchored (its first anchor of a day also goes on the bus).
    audit_anchor_seconds: float = 300.0
    # How often the credit department's reporter sends the dishonesty records forgeries owe (when any are owed).
    credit_report_seconds: float = 2.0
    # Where the desk fetches materials (with the key `intake_materials_key`, scope materials:read).
    intake_base_url: str = "http://127.0.0.1:8001"

    def answering(self) -> list[str]:
        """The departments this process answers for; an unknown name stops it at start-up."""
        named = [d.strip() for d in self.verification_departments.split(",") if d.strip()] or list(DEPARTMENTS)
        if unknown := set(named) - set(DEPARTMENTS):
            raise SystemExit(f"VERIFICATION_DEPARTMENTS names unknown departments: {', '.join(sorted(unknown))}")
        return named

    def owners(self) -> list[str]:
        """The module owners this process answers for; a malformed name stops it at start-up."""
        named = [o.strip() for o in self.verification_owners.split(",") if o.strip()]
        if bad := [o for o in named if not re.match(OWNER_PATTERN, o) or len(o) > 40]:
            raise SystemExit(f"VERIFICATION_OWNERS names no module owner (district:<name>, department:<name>): {bad}")
        return named


@lru_cache
def get_settings() -> VerificationSettings:
    return VerificationSettings()
