"""CPU seconds used by each part of the platform during a measurement (from /proc)."""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int, reaped: bool = False) -> float:
    """CPU seconds of a process (and, `reaped`, of its children that ended and were waited for)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11 : 15 if reaped else 13]) / _TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _pids_named(word: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if word in (d / "cmdline").read_bytes().decode(errors="replace"):
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def _postmaster() -> int | None:
    """The local cluster's server process (its data directory's postmaster.pid), if it runs."""
    from deploy.local.postgres import PGDATA

    try:
        return int((PGDATA / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _children(parent: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _postgresql() -> float:
    """CPU seconds of this platform's PostgreSQL: its server and every backend it forked (other
    clusters on the machine, such as other checkouts' test runs, are not ours to count), with the
    backends that ended meanwhile (the server waits for them: their seconds become its children's)."""
    server = _postmaster()
    if server is None:
        return sum(_cpu(p) for p in _pids_named("postgres"))
    return _cpu(server, reaped=True) + sum(_cpu(p) for p in _children(server))


def snapshot(parts: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of the named processes, of the platform's PostgreSQL and of this process."""
    snap = {name: _cpu(pid) for name, pid in parts.items()}
    snap["postgresql"] = _postgresql()
    snap["load generator"] = sum(os.times()[:2])
    return snap


def used(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """Cores used on average by each part between two snapshots."""
    return {k: round((after.get(k, 0) - v) / seconds, 2) for k, v in before.items()}


def machine() -> float:
    """CPU seconds the whole machine has been busy (all processes, ours and anyone else's)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / _TICK
