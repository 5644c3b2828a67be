"""CPU seconds used by each part of the platform during a measurement (from /proc)."""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
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


def snapshot(parts: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of the named processes, of all PostgreSQL backends and of this process."""
    snap = {name: _cpu(pid) for name, pid in parts.items()}
    snap["postgresql"] = sum(_cpu(p) for p in _pids_named("postgres"))
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
