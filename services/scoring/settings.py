"""Scoring's own settings (environment variables, documented in the README's Settings table),
beside the platform's (shared.settings.Settings)."""

from __future__ import annotations

from shared.settings import Settings


class ScoringSettings(Settings):
    # How often scoring looks for applications a department left unanswered past the review deadline.
    overdue_sweep_seconds: float = 300.0

    # Simulations: where populations and reports are kept (a volume in containers); a job whose
    # runner has not been heard of for the lease is taken over, up to the attempts, then failed.
    simulation_dir: str = ".local/simulations"
    simulation_lease_seconds: float = 30.0
    simulation_max_attempts: int = 3
    simulation_max_holders: int = 10_000_000
    # An uploaded population, judged from its footer before any column is read (a small file can
    # stand for gigabytes): list items per holder in any list column, and its size decompressed.
    simulation_max_items_per_holder: int = 50
    simulation_max_decompressed_bytes: int = 4 * 1024 * 1024 * 1024
    simulation_retention_days: int = 30  # finished jobs (and their files) are removed after this

    # Where scoring reaches publicity for a round and its candidates (a past round replayed under a
    # draft): inside a cluster its Service, by default the public address.
    publicity_base_url: str = "http://127.0.0.1:8004"
    publicity_internal_url: str | None = None

    @property
    def publicity_for_services(self) -> str:
        return self.publicity_internal_url or self.publicity_base_url

    # Where scoring reaches verification to draw a campaign's sample from the permit register.
    verification_base_url: str = "http://127.0.0.1:8002"
    verification_internal_url: str | None = None

    @property
    def verification_for_services(self) -> str:
        return self.verification_internal_url or self.verification_base_url
