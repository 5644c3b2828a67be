"""Prometheus metrics shared by every service (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

HTTP_REQUESTS = Counter("points_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "points_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
EVENTS_PUBLISHED = Counter("points_events_published_total", "Events published from the outbox", ["type"])
EVENTS_CONSUMED = Counter("points_events_consumed_total", "Events consumed", ["consumer", "type", "outcome"])
DEAD_LETTERS = Counter("points_dead_letters_total", "Messages sent to a dead-letter topic", ["consumer", "topic"])
HANDLER_LATENCY = Histogram("points_event_handler_seconds", "Event batch handling time", ["consumer"])
OUTBOX_UNDELIVERABLE = Counter(
    "points_outbox_undeliverable_total", "Outbox events the broker refused for good (too large)", ["event_type"]
)
OUTBOX_LAG = Histogram(
    "points_outbox_lag_seconds",
    "Age of the oldest event in a relayed batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
)
BATCH_SIZE = Histogram(
    "points_consumer_batch_size",
    "Events handled per consumer transaction",
    ["consumer"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
CONSUMER_WAITING = Gauge(
    "points_consumer_waiting", "1 while a consumer waits for a dependency to come back", ["consumer"]
)
OUTAGE_WAITS = Counter(
    "points_outage_waits_total", "Times work waited for a dependency instead of failing", ["component"]
)

# -- read at scrape time (shared.gauges): what a stalled relay or a slow consumer looks like ----------
OUTBOX_BACKLOG = Gauge("points_outbox_backlog", "Outbox events not yet published")
OUTBOX_OLDEST_AGE = Gauge(
    "points_outbox_oldest_age_seconds", "Age of the oldest outbox event not yet published (0 when none)"
)
CONSUMER_LAG = Gauge(
    "points_consumer_lag",
    "Messages on a partition not yet committed by the consumer group",
    ["consumer", "group", "topic", "partition"],
)
# -- state ----------------------------------------------------------------------------------------------
READY = Gauge("points_ready", "1 while the service can accept work (its database is up), 0 when it cannot")
READINESS_CHANGES = Counter("points_readiness_changes_total", "Times readiness went from ready to not or back")
CIRCUIT_BREAKER_STATE = Gauge(
    "points_circuit_breaker_state", "A circuit breaker's state: 0 closed, 1 half-open, 2 open", ["breaker"]
)
SIMULATION_JOBS = Gauge("points_simulation_jobs", "Simulation jobs by state (queued: the queue's depth)", ["state"])
OVERDUE_ANSWERS = Counter(
    "points_overdue_answers_total",
    "Applications scored without a department's answer: it was silent past the review deadline",
    ["department"],
)
BUILD_INFO = Info("points_build", "The running build: service, version, revision, Python")
