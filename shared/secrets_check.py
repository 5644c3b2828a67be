"""Secrets are given, never defaulted: the one start-up check every service runs.

On the embedded platform (POINTS_ENVIRONMENT=embedded: make run, make test, make bench) the demo
secrets of shared.demo are allowed. Anywhere else a service refuses to start when a secret it
needs is missing, is one of the public demo values, or when a demo API key is still active in its
own api_keys table: the salt would let anyone turn a masked ID and its stored hash back into the
full ID number, and a demo key opens the API to anyone who has read this repository.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import Table, select

from shared.demo import (
    DEMO_CAMPAIGN_DRAWS_KEY,
    DEMO_CAMPAIGN_JOIN_KEY,
    DEMO_KEYS,
    DEMO_MATERIALS_KEY,
    DEMO_ROUND_CANDIDATES_KEY,
    DEMO_SALT,
    EMBEDDED,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from shared.service import ServiceSpec
    from shared.settings import Settings

# The secrets each service needs (environment variable -> settings field).
NEEDS = {
    # The salt of the pseudonymous holder keys: intake makes them, scoring and publicity match them.
    "intake": ("CANDIDATE_KEY_SALT",),
    # (scoring's PUBLICITY_CANDIDATES_KEY and CAMPAIGN_DRAWS_KEY are optional: without them, replaying
    # a round or opening a campaign answers 503; publicity's CAMPAIGN_JOIN_KEY likewise: without it
    # the estimate page does not offer campaigns.)
    "scoring": ("CANDIDATE_KEY_SALT",),
    "publicity": ("CANDIDATE_KEY_SALT",),
    # The salt also keys who a campaign drew (services/verification/campaigns.py).
    "verification": ("INTAKE_MATERIALS_KEY", "CANDIDATE_KEY_SALT"),
}
_DEMO_VALUES = {
    "CANDIDATE_KEY_SALT": DEMO_SALT,
    "INTAKE_MATERIALS_KEY": DEMO_MATERIALS_KEY,
    "PUBLICITY_CANDIDATES_KEY": DEMO_ROUND_CANDIDATES_KEY,
    "CAMPAIGN_DRAWS_KEY": DEMO_CAMPAIGN_DRAWS_KEY,
    "CAMPAIGN_JOIN_KEY": DEMO_CAMPAIGN_JOIN_KEY,
}
# The salt is the only secret in a hash of an 18-character ID number: it must not be guessable.
MIN_SALT_LENGTH = 16


class UnsafeSecrets(RuntimeError):
    """A real deployment configured with a missing or public secret."""


def secret_problems(settings: Settings, service: str) -> list[str]:
    """What is wrong with this process's secrets, one sentence each, naming the variable."""
    if settings.points_environment == EMBEDDED:
        return []
    problems = []
    for var, demo in _DEMO_VALUES.items():
        value = getattr(settings, var.lower())
        if not value:  # unset, or set to nothing (compose's ${VAR:-})
            if var in NEEDS.get(service, ()):
                problems.append(f"{var} is not set: the {service} service needs it (give it from a secret store).")
        elif value == demo:
            problems.append(f"{var} is the public demo value: set a secret of your own.")
        elif var == "CANDIDATE_KEY_SALT" and len(value) < MIN_SALT_LENGTH:
            problems.append(f"{var} is shorter than {MIN_SALT_LENGTH} characters: use a long random value.")
    return problems


def demo_key_hashes(service: str) -> dict[str, str]:
    """key id -> SHA-256 of the secret of each demo key the embedded platform issues for the service."""
    return {kid: hashlib.sha256(secret.encode()).hexdigest() for kid, secret, _p, _s in DEMO_KEYS.get(service, [])}


def demo_key_problems(active: dict[str, str], service: str) -> list[str]:
    """`active`: key id -> stored secret hash of the unrevoked keys whose ids are demo key ids."""
    demo = demo_key_hashes(service)
    found = sorted(kid for kid, digest in active.items() if demo.get(kid) == digest)
    if not found:
        return []
    return [
        f"the demo API keys {', '.join(found)} are active in {service}.api_keys: revoke them "
        f"(python -m shared.keys revoke --service {service} --key-id <id>) and issue keys of your own."
    ]


def refuse_unsafe_secrets(settings: Settings, service: str) -> None:
    """Called when the app is built: a clear message instead of a service running on public secrets."""
    problems = secret_problems(settings, service)
    if problems:
        raise SystemExit(_message(settings, problems))


def check_demo_keys_at_startup(spec: ServiceSpec, settings: Settings) -> ServiceSpec:
    """The spec, with its start-up hook preceded by the look for demo API keys (needs the database)."""
    if settings.points_environment == EMBEDDED:
        return spec
    then = spec.on_startup

    async def on_startup(app: FastAPI) -> None:
        table: Table = spec.api_keys
        demo_ids = list(demo_key_hashes(spec.name))
        async with app.state.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(table.c.key_id, table.c.secret_sha256).where(
                        table.c.key_id.in_(demo_ids), table.c.revoked_at.is_(None)
                    )
                )
            ).all()
        problems = demo_key_problems({r.key_id: r.secret_sha256 for r in rows}, spec.name)
        if problems:
            raise UnsafeSecrets(_message(settings, problems))
        if then:
            await then(app)

    return replace(spec, on_startup=on_startup)


def _message(settings: Settings, problems: list[str]) -> str:
    env = settings.points_environment or "unset"
    return (
        f"refusing to start (POINTS_ENVIRONMENT={env}, a real deployment; only 'embedded', the local "
        "platform, allows demo secrets): " + " ".join(problems)
    )
