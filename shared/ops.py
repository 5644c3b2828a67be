"""The operational endpoints' own port: /healthz, /readyz and /metrics for the platform, not partners.

With `OPS_PORT` set (the image sets 9000; `deploy/local` the service's port + 50) they are served
by a second, small ASGI app on that port, in the same process and event loop (so /healthz still
says whether this process answers), and the public port does not serve them: an Ingress exposes
the public port only, and a NetworkPolicy lets the kubelet and Prometheus reach the other. Unset,
they stay on the public port (a bare `uvicorn services.x.app:app`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from shared.logging import get_logger

log = get_logger(__name__)


def ops_app(app: FastAPI) -> FastAPI:
    """An app for the operational routes that shares `app`'s state (its database, broker link, consumers)."""
    ops = FastAPI(title=f"{app.title} (operations)", docs_url=None, redoc_url=None, openapi_url=None)
    ops.state = app.state
    return ops


class _QuietServer(uvicorn.Server):
    """Leaves signals to the service's own server: the lifespan stops this one when that one stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class OpsServer:
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, lifespan="off", access_log=False, log_config=None)
        self.server = _QuietServer(config)
        self.where = f"{host}:{port}"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(), name="ops-server")
        while not self.server.started:  # the port is bound (or serving failed) before the service says it started
            if self._task.done():
                self._task.result()  # raises what stopped it (a port already in use)
                raise RuntimeError(f"the operations server on {self.where} stopped at start")
            await asyncio.sleep(0.01)
        log.info("operations endpoints served", at=self.where)

    async def stop(self) -> None:
        if self._task is not None:
            self.server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 5)
