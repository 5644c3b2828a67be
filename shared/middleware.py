"""ASGI middleware: trace context in and out, request metrics, one access log line per request;
request body limits."""
from __future__ import annotations

import re
import time

import orjson
from starlette.exceptions import HTTPException

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


class BodyLimitMiddleware:
    """Refuse request bodies over a limit before they are read into memory or spooled to disk.

    Uploads (paths matching `upload_paths`) get the larger limit. A declared Content-Length over
    the limit is refused at once; a body streamed without one is cut off when it passes the limit.
    """

    def __init__(self, app, default: int, uploads: int, upload_paths: str = r"/materials$",
                 large: dict[str, int] | None = None) -> None:
        self.app, self.default, self.uploads = app, default, uploads
        self.upload_paths = re.compile(upload_paths)
        self.large = [(re.compile(p), limit) for p, limit in (large or {}).items()]  # e.g. a population file

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.uploads if self.upload_paths.search(scope["path"]) else self.default
        if any(k == b"content-type" and v.startswith(b"multipart/form-data") for k, v in scope.get("headers", [])):
            limit = next((big for p, big in self.large if p.search(scope["path"])), limit)  # files only, not JSON
        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > limit:
                # Most HTTP clients read no answer before they have sent the whole body: discard it
                # (up to a bound), so the client gets the problem document instead of a broken pipe.
                await self._drain(receive, bound=max(int(v), limit) if int(v) <= 8 * limit else 0)
                return await self._refuse(scope, send, limit)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # answered as problem details by the app's own handler
                    raise HTTPException(413, f"The request body is over the limit of {limit} bytes.")
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    async def _drain(receive, bound: int) -> None:
        drained = 0
        while drained < bound:
            message = await receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    @staticmethod
    async def _refuse(scope, send, limit: int) -> None:
        body = orjson.dumps({"type": "about:blank", "title": "Payload too large", "status": 413,
                             "detail": f"The request body is over the limit of {limit} bytes.",
                             "instance": scope["path"]})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"), (b"connection", b"close"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
