"""The registry adapter's circuit breaker, as Prometheus sees it: its state when scraped."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.verification.registries_http import CircuitBreaker


def _scraped(name: str) -> float | None:
    return REGISTRY.get_sample_value("points_circuit_breaker_state", {"breaker": name})


def test_the_state_gauge_follows_the_breaker_open_and_closed():
    breaker = CircuitBreaker(failures_to_open=2, open_seconds=3600, name="unit-open")
    assert _scraped("unit-open") == 0
    breaker.failed()
    assert _scraped("unit-open") == 0  # one failure is not enough
    breaker.failed()
    assert breaker.state == "open" and _scraped("unit-open") == 2
    breaker.succeeded()
    assert _scraped("unit-open") == 0


def test_an_open_circuit_shows_half_open_once_its_time_is_up_without_any_call():
    breaker = CircuitBreaker(failures_to_open=1, open_seconds=0, name="unit-half-open")
    breaker.failed()
    assert breaker.state == "half-open" and _scraped("unit-half-open") == 1
