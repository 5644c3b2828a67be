"""Process settings, read from environment variables (documented in the README).

Defaults are the embedded local platform that `make run` starts, so a fresh clone
needs no configuration at all; secrets are the exception: they have demo values only on the
embedded platform (POINTS_ENVIRONMENT=embedded) and none anywhere else (see shared.secrets_check).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.demo import (
    DEMO_CAMPAIGN_DRAWS_KEY,
    DEMO_CAMPAIGN_JOIN_KEY,
    DEMO_MATERIALS_KEY,
    DEMO_ROUND_CANDIDATES_KEY,
    DEMO_SALT,
    EMBEDDED,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service_name: str = Field("points", description="Name used in logs, metrics, consumer groups")
    # "embedded": the local platform of make run/test/bench, where demo secrets are allowed.
    # Anything else (unset included) is a real deployment: secrets must be given, and not the demo ones.
    points_environment: str = ""
    database_url: str = "postgresql+asyncpg://points@127.0.0.1:55432/points"
    database_pool_size: int = 20

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    # Lets a test run (or a second environment on one broker) use its own topics and groups.
    kafka_topic_prefix: str = ""
    kafka_partitions: int = 4
    kafka_replication_factor: int = 1
    # Topic settings, for the topics job (python -m shared.bus.topics) or a service creating them:
    # unset, the broker's defaults. Retention: keep it under INBOX_RETENTION_DAYS.
    kafka_min_insync_replicas: int | None = Field(None, ge=1)
    kafka_retention_hours: int | None = Field(None, ge=1)
    kafka_dlq_retention_hours: int | None = Field(None, ge=1)
    # false where a job creates the topics with their settings (compose, Kubernetes): the services
    # then only use them. true (the embedded platform): each service creates what is missing.
    kafka_create_topics: bool = True
    # Tansu rejects aiokafka's idempotent producer; turn this on against Apache Kafka.
    kafka_enable_idempotence: bool = False
    # A group join on Tansu takes about half the session timeout: keep it short locally.
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 1000
    kafka_max_batch: int = 200
    # A name of this replica that survives its restarts (a StatefulSet pod's name; the process name
    # locally): its consumers then rejoin their groups at once (static membership). Unset: dynamic.
    kafka_group_instance_id: str | None = None
    # A secured cluster: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; SASL PLAIN or SCRAM-SHA-256/512.
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None  # the cluster's CA (default: the system's trust store)

    # Under load, a small batch waits this long for more: one transaction, commit and relay batch
    # for many events. 25 ms rather than 10 cost 0.1 s of p99 at 50/s and saved 14 % of the CPU an
    # application (bench/, 2026-11-30).
    consumer_coalesce_ms: int = 25
    consumer_max_retries: int = 3
    consumer_retry_backoff_ms: int = 100
    # While a dependency is away, retries back off exponentially up to this pause.
    consumer_outage_backoff_max_ms: int = 5000

    outbox_poll_interval_ms: int = 200
    outbox_batch_size: int = 500
    outbox_coalesce_ms: int = 25

    # Retention (shared.retention): how long sent outbox rows, inbox ids and idempotency keys are kept.
    retention_sweep_seconds: int = Field(3600, ge=1)
    outbox_retention_hours: int = Field(168, ge=1)  # a lost broker can be refilled from a week of events
    inbox_retention_days: int = Field(30, ge=1)  # longer than a topic keeps a message: redelivery stays harmless
    idempotency_retention_hours: int = Field(168, ge=1)  # a partner's retries for a week get the first answer

    # /healthz, /readyz and /metrics on a port of their own (shared/ops.py); unset: on the service's port.
    ops_port: int | None = Field(None, ge=1, le=65535)
    ops_host: str = "0.0.0.0"

    log_level: str = "INFO"
    log_json: bool = True
    # The source revision the image was built from (points_build_info; set by the build).
    build_revision: str = "unknown"

    # Comma-separated crash points for failure tests (see shared.failpoints).
    failpoints: str = ""

    # Scoring's public address: the links handed to partners (explanation URLs).
    scoring_base_url: str = "http://127.0.0.1:8003"
    # Where the other services themselves reach scoring (rule sets, modules, estimates): inside a
    # cluster or a compose network, its Service; by default the public address.
    scoring_internal_url: str | None = None

    @property
    def scoring_for_services(self) -> str:
        return self.scoring_internal_url or self.scoring_base_url

    # The key the verification desk presents to intake for materials (scope materials:read).
    intake_materials_key: str | None = None  # a secret: see _embedded_demo_secrets
    # The key scoring presents to publicity for a round's candidates, to replay the round under a
    # draft (scope rounds:candidates).
    publicity_candidates_key: str | None = None  # a secret: see _embedded_demo_secrets
    # The key scoring presents to verification to draw a 模拟积分 campaign's sample from the permit
    # register (scope campaigns:draw).
    campaign_draws_key: str | None = None  # a secret: see _embedded_demo_secrets
    # The key publicity's estimate page presents to scoring to sign up (or withdraw) a holder who
    # proved who they are on the page (scope campaigns:join).
    campaign_join_key: str | None = None  # a secret: see _embedded_demo_secrets
    # Each service's own settings are in services/<name>/settings.py.
    # Our own reverse proxies (addresses or CIDRs, comma-separated; none by default): only a request
    # from one of them has its X-Forwarded-For believed (shared.client_address).
    trusted_proxies: str = ""
    # Abuse limits (shared.ratelimit), per hour: by client address (see trusted_proxies) and by API key.
    objections_per_client_hour: int = 5
    reviews_per_principal_hour: int = 1000
    reviews_per_client_hour: int = 1000
    evaluations_per_principal_hour: int = 3600
    evaluations_per_client_hour: int = 3600
    # 模拟积分 without a key (scoring's POST /v1/estimate and publicity's /estimate page), per address.
    estimates_per_client_hour: int = 600
    simulations_per_principal_hour: int = 20
    simulations_per_client_hour: int = 20
    # A past round replayed under a draft (scoring): re-scores every candidate at once.
    replays_per_principal_hour: int = 60
    replays_per_client_hour: int = 60
    material_uploads_per_principal_hour: int = 2000
    material_uploads_per_client_hour: int = 2000
    # Salts the hashes that group a child's parents in publicity (never shown anywhere).
    candidate_key_salt: str | None = None  # a secret: see _embedded_demo_secrets
    # The largest uploaded simulation population (the body-limit middleware reads it; scoring's
    # other settings are its own: services/scoring/settings.py).
    simulation_upload_max_bytes: int = 2 * 1024 * 1024 * 1024

    # Uploads: a material's size limit, and the limit on any other request body (JSON).
    material_max_bytes: int = 10 * 1024 * 1024
    request_max_bytes: int = 2 * 1024 * 1024

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, v: str) -> str:
        from shared.client_address import trusted_networks

        trusted_networks(v)  # a typo is refused at start-up, not found when the limits misfire
        return v

    @model_validator(mode="after")
    def _embedded_demo_secrets(self) -> Settings:
        # Only the embedded platform falls back to the demo secrets; a real deployment that
        # forgets one is refused at start-up (shared.secrets_check), not run with a public value.
        if self.points_environment == EMBEDDED:
            self.candidate_key_salt = self.candidate_key_salt or DEMO_SALT
            self.intake_materials_key = self.intake_materials_key or DEMO_MATERIALS_KEY
            self.publicity_candidates_key = self.publicity_candidates_key or DEMO_ROUND_CANDIDATES_KEY
            self.campaign_draws_key = self.campaign_draws_key or DEMO_CAMPAIGN_DRAWS_KEY
            self.campaign_join_key = self.campaign_join_key or DEMO_CAMPAIGN_JOIN_KEY
        return self

    def topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

    def group(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
