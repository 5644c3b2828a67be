"""A simulation job's folder: what lies where, and writes a reader never sees half done.

The service and the child process both use it; it imports nothing heavy (no engine, no charts).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

POPULATION_FILE = "population.parquet"
SPEC_FILE = "spec.json"
PROGRESS_FILE = "progress.json"


def attempt_dir(folder: Path, attempt: int) -> Path:
    """Each attempt reports into a folder of its own: one cut short never mixes with the one that finishes."""
    return folder / f"attempt-{attempt}"


def write_text(path: Path, text: str) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_json(path: Path, doc: dict[str, Any]) -> None:
    write_text(path, json.dumps(doc, ensure_ascii=False))
