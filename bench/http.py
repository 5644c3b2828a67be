"""A lean HTTP/1.1 keep-alive client for load generation.

The load generator shares the machine's two cores with the platform it measures; a
general-purpose client spent several milliseconds of CPU per request, which would be
counted against the platform. This one only does what the benchmark needs: POST JSON or
GET, read the status line, headers and a Content-Length body.
"""

from __future__ import annotations

import asyncio

import orjson


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post_json(self, path: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
        payload = orjson.dumps(body)
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
        ] + [f"{k}: {v}" for k, v in headers.items()]
        status, data = await self._exchange(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        return status, (orjson.loads(data) if data else {})

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """GET `path` (already percent-encoded); the body comes back unparsed (JSON or HTML)."""
        head = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}"] + [
            f"{k}: {v}" for k, v in (headers or {}).items()
        ]
        return await self._exchange(("\r\n".join(head) + "\r\n\r\n").encode())

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        for attempt in (0, 1):  # the server may have closed an idle keep-alive connection
            try:
                if self.writer is None:
                    await self._connect()
                assert self.reader is not None and self.writer is not None
                self.writer.write(request)
                status_line = await self.reader.readuntil(b"\r\n")
                if not status_line:
                    raise ConnectionError("closed")
                status = int(status_line.split()[1])
                length = 0
                close = False
                while True:
                    line = await self.reader.readuntil(b"\r\n")
                    if line == b"\r\n":
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    lname = name.strip().lower()
                    if lname == "content-length":
                        length = int(value.strip())
                    elif lname == "connection" and value.strip().lower() == "close":
                        close = True
                data = await self.reader.readexactly(length) if length else b""
                if close:
                    await self.close()
                return status, data
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                await self.close()
                if attempt:
                    raise
        raise ConnectionError("unreachable")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self.reader = self.writer = None


class Pool:
    def __init__(self, host: str, port: int, size: int) -> None:
        self._free: asyncio.Queue[Connection] = asyncio.Queue()
        self._all = [Connection(host, port) for _ in range(size)]
        for c in self._all:
            self._free.put_nowait(c)

    async def post_json(self, path: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
        conn = await self._free.get()
        try:
            return await conn.post_json(path, body, headers)
        finally:
            self._free.put_nowait(conn)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = await self._free.get()
        try:
            return await conn.get(path, headers)
        finally:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        for c in self._all:
            await c.close()
