"""The HTTP adapter of the registries port (registries.Registries): a real data-sharing platform.

Timeouts bound every call; a timeout, a connection error or a 5xx is retried with
exponential backoff (tenacity); after `failures_to_open` calls fail in a row the circuit
opens and calls fail at once for `open_seconds`, then one trial call decides. A registry
that is down raises `Unavailable`: the department's consumer replays the batch later
instead of answering wrongly or dead-lettering the application.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from shared.metrics import CIRCUIT_BREAKER_STATE
from shared.outages import Unavailable


class RegistryError(Exception):
    """The registry refused the question (a 4xx): asking again will not help."""


class CircuitBreaker:
    STATES = ("closed", "half-open", "open")  # points_circuit_breaker_state: 0, 1, 2

    def __init__(self, failures_to_open: int = 5, open_seconds: float = 10.0, name: str = "registries") -> None:
        self.failures_to_open, self.open_seconds = failures_to_open, open_seconds
        self.failures = 0
        self.opened_at: float | None = None
        self.trial = False
        # Read when scraped: an open circuit turns half-open by the clock, with no call to notice it.
        CIRCUIT_BREAKER_STATE.labels(name).set_function(lambda: self.STATES.index(self.state))

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "open" if time.monotonic() - self.opened_at < self.open_seconds else "half-open"

    def before_call(self) -> None:
        state = self.state
        if state == "open" or (state == "half-open" and self.trial):
            raise Unavailable("the registry's circuit is open: it failed repeatedly, not asking for a while")
        if state == "half-open":
            self.trial = True  # one call finds out whether the registry is back; the others wait

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.trial = 0, None, False

    def failed(self) -> None:
        self.failures += 1
        if self.state == "half-open" or self.failures >= self.failures_to_open:
            self.opened_at = time.monotonic()
        self.trial = False


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)  # timeouts, refused connections, broken pipes


def _dates(value: Any, *fields: str) -> Any:
    if isinstance(value, list):
        return [_dates(v, *fields) for v in value]
    if isinstance(value, dict):
        return {k: date.fromisoformat(v) if k in fields and isinstance(v, str) else v for k, v in value.items()}
    return value


class HttpRegistries:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 3.0,
        attempts: int = 3,
        backoff: float = 0.2,
        breaker: CircuitBreaker | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.client = client or httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(timeout, connect=1.0))
        self.attempts, self.backoff = attempts, backoff
        self.breaker = breaker or CircuitBreaker()

    async def ask_ahead(self, uow: Any, asks: list[Any]) -> None:
        """Each look-up is its own request to the data-sharing platform: nothing to ask ahead."""
        return None

    async def ask(self, path: str, body: dict[str, Any]) -> Any:
        """POST `body` to `path` and return the JSON answer, under the timeouts, retries and breaker."""
        self.breaker.before_call()
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.attempts),
                reraise=True,
                wait=wait_exponential(multiplier=self.backoff, max=2.0),
                retry=retry_if_exception(_transient),
            ):
                with attempt:
                    r = await self.client.post(path, json=body)
                    r.raise_for_status()
                    answer = r.json()
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code < 500:
                self.breaker.succeeded()  # the registry is up; the question was wrong
                raise RegistryError(f"{path}: {exc.response.status_code} {exc.response.text[:200]}") from exc
            self.breaker.failed()
            raise Unavailable(f"{path}: the registry answered {exc.response.status_code}") from exc
        except httpx.TransportError as exc:
            self.breaker.failed()
            raise Unavailable(f"{path}: {type(exc).__name__}") from exc
        except Exception:  # an answer that is not JSON, say: count it, never leave a trial call hanging
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return answer

    async def police(
        self, uow: Any, permit_number: str, id_number: str, cut_off: date
    ) -> tuple[dict | None, list[dict], list[dict]]:
        a = await self.ask(
            "/v1/lookups/police",
            {"permit_number": permit_number, "id_number": id_number, "cut_off": cut_off.isoformat()},
        )
        return (
            _dates(a["permit"], "valid_to"),
            _dates(a["residence"], "start_date", "end_date"),
            _dates(a.get("districts", []), "start_date", "end_date"),
        )

    async def relation(self, uow: Any, id_number: str, relative: str, today: date) -> tuple[list[str], bool]:
        a = await self.ask(
            "/v1/lookups/relation", {"id_number": id_number, "relative": relative, "today": today.isoformat()}
        )
        return sorted(a["relations"]), bool(a["disabled"])

    async def records(
        self, uow: Any, lookup: str, id_number: str, cut_off: date, people: list[str] | None = None
    ) -> dict[str, list[dict]]:
        return await self.ask(
            f"/v1/lookups/records/{lookup}",
            {"id_number": id_number, "cut_off": cut_off.isoformat(), "people": people or [id_number]},
        )

    async def report_dishonesty(self, uow: Any, id_number: str, act: str, listed_on: date) -> None:
        await self._ask("/v1/credit/listings", {"id_number": id_number, "act": act, "listed_on": listed_on.isoformat()})

    async def social_insurance(self, uow: Any, id_number: str, cut_off: date) -> list[dict]:
        a = await self.ask("/v1/lookups/social_insurance", {"id_number": id_number, "cut_off": cut_off.isoformat()})
        return _dates(a["spans"], "start_month", "end_month")
