"""Pure department rules: what each registry answer means for each indicator."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.identity import birth_date

GENESIS = "0" * 64


@dataclass
class Answer:
    """A department's verdict on its items, and the facts it vouches for."""

    items: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    holder_name: str | None = None


def police_answer(holder_id: str, permit_number: str, permit: dict | None, residence: list[dict], cut_off: date) -> Answer:
    ans = Answer()
    if permit is None:
        ans.items.append({"indicator": "permit", "state": "returned",
                          "reason": "no residence permit with this number in the police registry"})
        ans.facts["permit_status"] = "not_found"
    elif permit["id_number"] != holder_id:
        ans.items.append({"indicator": "permit", "state": "returned",
                          "reason": "the permit is registered to another holder"})
        ans.facts["permit_status"] = "mismatch"
    else:
        ans.holder_name = permit["name"]
        ans.facts["birth_date"] = birth_date(holder_id).isoformat()
        status = permit["status"]
        if status == "valid" and permit["valid_to"] < cut_off:
            status = "expired"
        ans.items.append({"indicator": "permit", "state": "passed" if status == "valid" else "returned",
                          "reason": None if status == "valid" else f"permit {status}"})
        ans.facts["permit_status"] = status
    ans.facts["residence_spans"] = [
        {"start": r["start_date"].isoformat(), "end": r["end_date"].isoformat() if r["end_date"] else None}
        for r in residence
    ]
    ans.items.append({"indicator": "residence", "state": "passed" if residence else "not_found",
                      "reason": None if residence else "no residence registration found"})
    return ans


def social_insurance_answer(spans: list[dict]) -> Answer:
    ans = Answer()
    ans.facts["social_insurance_spans"] = [
        {"start": s["start_month"].isoformat(), "end": s["end_month"].isoformat(), "kind": s["kind"],
         "transferred_in": s["transferred_in"], "back_paid": s["back_paid"]}
        for s in spans
    ]
    ans.items.append({"indicator": "social_insurance", "state": "passed" if spans else "not_found",
                      "reason": None if spans else "no contributions found in the city"})
    return ans


def chain_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    body = json.dumps(entry, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()
