"""The contracts as the services serve them, written to (or checked against) docs/contracts/.

`make contracts` rewrites the snapshots after a deliberate change, so review shows what a partner's
contract gained or lost; `tests/unit/test_contracts.py` fails while a served document differs from
its snapshot. Each document is asked of the service's own ASGI app, as a client would ask for it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

SERVICES = ("intake", "verification", "scoring", "publicity")
DOCUMENTS = {"openapi": "/openapi.json", "asyncapi": "/asyncapi.json"}
SNAPSHOTS = Path(__file__).resolve().parents[2] / "docs" / "contracts"


def served(service: str) -> dict[str, dict[str, Any]]:
    """The service's OpenAPI and AsyncAPI documents, fetched from its app (no database needed)."""
    os.environ.setdefault("POINTS_ENVIRONMENT", "embedded")  # the app is built, never started
    app = importlib.import_module(f"services.{service}.app").app
    client = TestClient(app)  # outside `with`: the lifespan (database, broker) is not run
    docs = {}
    for kind, path in DOCUMENTS.items():
        response = client.get(path)
        response.raise_for_status()
        docs[kind] = response.json()
    return docs


def snapshot_path(service: str, kind: str) -> Path:
    return SNAPSHOTS / f"{service}.{kind}.json"


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        for kind, doc in served(service).items():
            snapshot_path(service, kind).write_text(render(doc), encoding="utf-8")
            print(f"wrote {snapshot_path(service, kind).relative_to(SNAPSHOTS.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
