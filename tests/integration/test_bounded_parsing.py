"""Uploads that cost far more to read than to send: refused within bounds, the service unharmed.

A YAML "billion laughs", a Parquet file whose lists hold tens of millions of items in a few
kilobytes, and a request announcing a body far over the limit, against the real scoring service.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from deploy.local.platform import demo_key
from deploy.local.processes import read_pid
from tests.integration.helpers import READER

pytestmark = pytest.mark.integration
POLICY = {"Authorization": f"Bearer {demo_key('scoring', 'demopolicy')}"}
BINJIANG = {"Authorization": f"Bearer {demo_key('scoring', 'demobinjiang')}"}

# Nine levels of nine aliases: about 387 million nodes once expanded, in under 600 bytes.
LAUGHS = "id: laughs\nl0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
)


async def _alongside_healthz(ops_url: str, request) -> tuple[httpx.Response, float, float]:
    """Send `request` while /healthz is asked every 20 ms; the answer, its time and /healthz's slowest."""
    slowest = 0.0
    done = asyncio.Event()

    async def probe(client: httpx.AsyncClient) -> None:
        nonlocal slowest
        while not done.is_set():
            started = time.monotonic()
            assert (await client.get(f"{ops_url}/healthz")).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            await asyncio.sleep(0.02)

    async with httpx.AsyncClient(timeout=30) as client:
        prober = asyncio.create_task(probe(client))
        await asyncio.sleep(0.1)  # the probe is under way before the document arrives
        started = time.monotonic()
        try:
            r = await request(client)
        finally:
            took = time.monotonic() - started
            done.set()
            await prober
    return r, took, slowest


async def test_a_billion_laughs_is_refused_quickly_and_the_service_stays_responsive(platform):
    url = platform.url("scoring")
    uploads = [
        (lambda c: c.put(f"{url}/v1/rule-sets/drafts/laughs", content=LAUGHS, headers=POLICY), "body"),
        (lambda c: c.put(f"{url}/v1/modules/laughs", content=LAUGHS, headers=BINJIANG), "body"),
        (
            lambda c: c.post(
                f"{url}/v1/simulations", headers=POLICY, json={"population": {"holders": 10}, "draft_document": LAUGHS}
            ),
            "draft_document",
        ),
        # No aliases, but 100,000 items: the most expensive document the size limit lets through is cut short.
        (
            lambda c: c.put(
                f"{url}/v1/rule-sets/drafts/long",
                headers=POLICY,
                content="id: long\nitems: [" + ", ".join(["1"] * 100_000) + "]\n",
            ),
            "body",
        ),
    ]
    for send, field in uploads:
        r, took, slowest = await _alongside_healthz(platform.ops_url("scoring"), send)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
        assert any(e["field"] == field and "20,000 nodes" in e["message"] for e in r.json()["errors"]), r.json()
        assert took < 3.0, f"refused only after {took:.1f}s"
        assert slowest < 1.0, f"/healthz waited {slowest:.2f}s while the document was parsed"
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        drafts = {d["id"] for d in (await client.get("/v1/rule-sets/drafts", headers=POLICY)).json()}
        assert not drafts & {"laughs", "long"}  # nothing kept
        assert (await client.get("/v1/modules/laughs")).status_code == 404


async def test_a_key_without_the_scope_is_refused_before_its_document_is_parsed(platform):
    """Not valid YAML at all: a key that may not upload hears 403, never what is wrong with the file."""
    garbage = "id: x\n  - [unclosed: {\n" + LAUGHS
    async with httpx.AsyncClient(base_url=platform.url("scoring"), timeout=10) as client:
        r = await client.put("/v1/rule-sets/drafts/x", content=garbage, headers=READER)
        assert r.status_code == 403, r.text
        r = await client.put("/v1/modules/x", content=garbage, headers=READER)  # owns no module
        assert r.status_code == 403, r.text
        r = await client.put("/v1/modules/settlement", content=garbage, headers=BINJIANG)  # the city's module
        assert r.status_code == 403, r.text
        r = await client.post(
            "/v1/simulations", json={"population": {"holders": 10}, "draft_document": garbage}, headers=READER
        )
        assert r.status_code == 403, r.text
        # With the scope, the same document is parsed and refused for what it is.
        r = await client.put("/v1/rule-sets/drafts/x", content=garbage, headers=POLICY)
        assert r.status_code == 422 and "not valid YAML" in r.json()["detail"], r.text


def _bomb(path: Path, holders: int, spans_each: int) -> Path:
    """Holders with `spans_each` identical residence spans each: kilobytes on disk, gigabytes once read."""
    n = holders * spans_each
    spans = pa.StructArray.from_arrays(
        [pa.array(np.full(n, 18_000, dtype=np.int32)).cast(pa.date32()), pa.nulls(n, pa.date32())],
        names=["start", "end"],
    )
    pq.write_table(
        pa.table(
            {
                "birth_date": pa.array(np.full(holders, 7_000, dtype=np.int32)).cast(pa.date32()),
                "residence_spans": pa.ListArray.from_arrays(
                    pa.array(np.arange(0, n + 1, spans_each, dtype=np.int32)), spans
                ),
            }
        ),
        path,
        compression="zstd",
    )
    return path


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


async def test_a_parquet_bomb_is_refused_from_its_metadata_and_the_service_does_not_grow(platform, tmp_path):
    url = f"{platform.url('scoring')}/v1/simulations"
    small, bomb = _bomb(tmp_path / "small.parquet", 10, 1_000), _bomb(tmp_path / "bomb.parquet", 1_000, 10_000)
    assert bomb.stat().st_size < 64 * 1024  # ten million items
    pid = read_pid(platform.proc_name("scoring"))
    assert pid, "the scoring service's process id"

    async def upload(client: httpx.AsyncClient, path: Path) -> httpx.Response:
        with path.open("rb") as f:
            return await client.post(
                url,
                headers=POLICY,
                files={"population": (path.name, f)},
                data={"draft": "hangzhou-2021", "cut_off_date": "2026-10-01"},
            )

    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(3):  # the same way through the service first, so what it allocates once is counted before
            r = await upload(client, small)
            assert r.status_code == 422, r.text
        before = _rss_mib(pid)
        r = await upload(client, bomb)
        after = _rss_mib(pid)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == ["population.residence_spans"], errors
    assert (
        "10,000,000 items for 1,000 holders" in errors[0]["message"] and "at most 50 a holder" in errors[0]["message"]
    )
    assert after - before < 20, f"the scoring service grew from {before:.0f} to {after:.0f} MiB"
    assert not [p for p in Path(".local/test-simulations").glob("*") if not (p / "spec.json").exists()]  # none kept


def _announce(port: int, path: str, content_type: str, length: int, sent: bytes) -> tuple[bytes, float]:
    """Announce a body of `length` bytes, send only `sent`, and read what comes back (bounded wait)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {POLICY['Authorization']}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
            ).encode()
            + sent
        )
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer, time.monotonic() - started


async def test_a_body_announced_over_the_limit_is_answered_at_once(platform):
    port = platform.port("scoring")
    cases = [
        ("multipart/form-data; boundary=x", 100 * 1024**3, b"--x\r\n"),  # over the population file's limit
        ("multipart/form-data; boundary=x", 3 * 1024**3, b"--x\r\n"),  # within 8x of it: once waited for
        ("application/json", 5 * 1024**2, b'{"population": '),  # a JSON body over REQUEST_MAX_BYTES
    ]
    for content_type, length, sent in cases:
        answer, took = await asyncio.to_thread(_announce, port, "/v1/simulations", content_type, length, sent)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), answer[:300]
        assert b"content-type: application/problem+json" in head.lower()
        assert b'"status":413' in body and b"over the limit" in body
        assert took < 2.0, f"answered after {took:.1f}s"
    # A client that sends its whole (too large) body before reading still gets the problem document.
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(f"{platform.url('scoring')}/v1/evaluate", content=b"x" * (3 * 1024**2), headers=READER)
        assert r.status_code == 413 and r.json()["status"] == 413
