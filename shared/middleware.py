"""ASGI middleware: the trace id out, request metrics, one access log line per request;
request body limits."""

from __future__ import annotations

import asyncio
import re
import time

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logging import get_logger
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.tracing import current_traceparent

log = get_logger("http")
_QUIET = {"/healthz", "/readyz", "/metrics"}


class TraceAndMetricsMiddleware:
    """Runs inside the OpenTelemetry request span (shared.tracing): the answer names its trace in a
    `traceparent` header, so a partner can quote it when asking about a request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        tp = current_traceparent()
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if tp:
                    message["headers"] = list(message.get("headers", [])) + [(b"traceparent", tp.encode())]
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
                log.info(
                    "request", method=scope["method"], path=scope["path"], status=status, ms=round(elapsed * 1000, 2)
                )


class BodyLimitMiddleware:
    """Refuse request bodies over a limit before they are read into memory or spooled to disk.

    Uploads (paths matching `upload_paths`) get the larger limit. A declared Content-Length over
    the limit is answered at once with a 413, before any of the body is read; a body streamed
    without one is cut off when it passes the limit.
    """

    DRAIN_BYTES = 16 * 1024 * 1024  # after the answer, what is read of the refused body at most…
    DRAIN_IDLE_SECONDS = 1.0  # …and how long the client may go quiet meanwhile
    DRAIN_SECONDS = 10.0  # …and for how long in all

    def __init__(
        self,
        app: ASGIApp,
        default: int,
        uploads: int,
        upload_paths: str = r"/materials$",
        large: dict[str, int] | None = None,
    ) -> None:
        self.app, self.default, self.uploads = app, default, uploads
        self.upload_paths = re.compile(upload_paths)
        self.large = [(re.compile(p), limit) for p, limit in (large or {}).items()]  # e.g. a population file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.uploads if self.upload_paths.search(scope["path"]) else self.default
        if any(k == b"content-type" and v.startswith(b"multipart/form-data") for k, v in scope.get("headers", [])):
            limit = next((big for p, big in self.large if p.search(scope["path"])), limit)  # files only, not JSON
        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > limit:
                return await self._refuse(scope, receive, send, limit)
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # answered as problem details by the app's own handler
                    raise HTTPException(413, f"The request body is over the limit of {limit} bytes.")
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The 413 goes out first, whatever the client still means to send (it may announce gigabytes and
        send nothing). Most clients read no answer before they have sent their whole body, so what keeps
        coming is then read and discarded for a while, within bounds, before the answer is closed:
        such a client sees the problem document rather than a broken pipe."""
        body = orjson.dumps(
            {
                "type": "about:blank",
                "title": "Payload too large",
                "status": 413,
                "detail": f"The request body is over the limit of {limit} bytes.",
                "instance": scope["path"],
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"connection", b"close"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": True})
        await self._drain(receive)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _drain(self, receive: Receive) -> None:
        loop = asyncio.get_running_loop()
        drained, deadline = 0, loop.time() + self.DRAIN_SECONDS
        while drained < self.DRAIN_BYTES:
            wait = min(self.DRAIN_IDLE_SECONDS, deadline - loop.time())
            if wait <= 0:
                return
            try:
                message = await asyncio.wait_for(receive(), timeout=wait)
            except TimeoutError:
                return
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                return
