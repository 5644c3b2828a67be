"""Supporting materials: what is accepted, and until when a returned item can be supplemented.

The type is sniffed from the content (a file named `.pdf` that is not a PDF is refused), so a
reviewer never opens something other than what the partner claims to have sent.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

import filetype

from services.intake.informing import REVIEW_WORKING_DAYS
from shared.calendar import add_working_days

ACCEPTED = {"application/pdf", "image/jpeg", "image/png"}
# Items a department could not confirm: the applicant may answer them with a material.
SUPPLEMENTABLE = {"returned", "not_found"}
# Items with nothing left to prove (or a verdict that materials cannot undo).
CLOSED = {"passed", "forged", "not_applicable"}


class MaterialRejected(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Inspected:
    media_type: str
    size: int
    sha256: str


def inspect(content: bytes, max_bytes: int) -> Inspected:
    if not content:
        raise MaterialRejected(422, "the file is empty")
    if len(content) > max_bytes:
        raise MaterialRejected(413, f"the file is {len(content)} bytes; the limit is {max_bytes} bytes")
    kind = filetype.guess(content[:8192])
    if kind is None or kind.mime not in ACCEPTED:
        found = kind.mime if kind else "unrecognised content"
        raise MaterialRejected(415, f"the content is {found}; only PDF, JPEG and PNG are accepted")
    return Inspected(kind.mime, len(content), hashlib.sha256(content).hexdigest())


def new_material_id() -> str:
    return f"MAT-{secrets.token_hex(8).upper()}"


def supplement_deadline(applied_on: date, returned_on: date, min_working_days: int) -> date:
    """The review deadline (15 working days after acceptance); an item returned close to it still
    gets `min_working_days` working days from the return."""
    return max(add_working_days(applied_on, REVIEW_WORKING_DAYS), add_working_days(returned_on, min_working_days))
