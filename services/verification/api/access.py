"""Who may read a department's records: deny by default, and nothing to tell apart from nothing at all."""

from __future__ import annotations

from fastapi import Request

from shared.auth import Principal
from shared.departments import DEPARTMENTS
from shared.problems import Problem


def own_department(department: str, principal: Principal) -> None:
    """A key without any department is refused; another department's records (or an unknown
    department) answer exactly like a record that does not exist."""
    if not principal.has("admin") and not principal.scoped_values("department"):
        raise Problem(403, "This key does not act for a department (scope department:<name>).")
    acts_for = principal.has("admin") or department in principal.scoped_values("department")
    if department not in DEPARTMENTS or not acts_for:
        raise not_visible()


def not_visible() -> Problem:
    return Problem(404, "Nothing at this address is visible to this key.")


def unit_of_work(request: Request):
    """A unit of work on the service's database (its store: `uow.store`)."""
    return request.app.state.db.unit_of_work()
