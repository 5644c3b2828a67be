"""Named crash points, so tests can kill a real process at an exact step.

`FAILPOINTS=outbox.after_commit_before_publish` makes the process exit at once when it
reaches that point, as a power cut or an OOM kill would: no cleanup, no flush.
"""

from __future__ import annotations

import os
import sys


def hit(name: str) -> None:
    active = {p.strip() for p in os.environ.get("FAILPOINTS", "").split(",") if p.strip()}
    if name in active:
        sys.stderr.write(f"failpoint {name} hit: exiting\n")
        sys.stderr.flush()
        os._exit(86)
