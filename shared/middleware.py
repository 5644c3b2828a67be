"""ASGI middleware: trace context in and out, request metrics, one access log line per request."""
from __future__ import annotations

import time

from shared.logging import get_logger
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.tracing import continue_trace

log = get_logger("http")
_QUIET = {"/healthz", "/readyz", "/metrics"}


class TraceAndMetricsMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = None
        for k, v in scope.get("headers", []):
            if k == b"traceparent":
                incoming = v.decode("latin-1")
                break
        tp = continue_trace(incoming)
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"traceparent", tp.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            HTTP_REQUESTS.labels(scope["method"], path, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], path).observe(elapsed)
            if scope["path"] not in _QUIET:
                log.info("request", method=scope["method"], path=scope["path"], status=status, ms=round(elapsed * 1000, 2))
