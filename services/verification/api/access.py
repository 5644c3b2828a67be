"""Who may read a department's records: deny by default, and nothing to tell apart from nothing at all."""

from __future__ import annotations

from fastapi import Request

from shared.auth import Principal
from shared.departments import DEPARTMENTS
from shared.problems import Problem


def own_department(department: str, principal: Principal, owners: list[str] | tuple[str, ...] = ()) -> None:
    """A key without any department (or module owner) is refused; another department's records
    (or an unknown department) answer exactly like a record that does not exist. A module owner's
    officers (scope `module:<owner>`) see the owner's own results, desk and audit chain."""
    departments, owned = principal.scoped_values("department"), principal.scoped_values("module")
    if not principal.has("admin") and not departments and not owned:
        raise Problem(403, "This key does not act for a department (scope department:<name>).")
    acts_for = principal.has("admin") or department in departments or department in owned
    if department not in (*DEPARTMENTS, *owners) or not acts_for:
        raise not_visible()


def own_owner(owner: str, principal: Principal) -> None:
    """Only the owner itself (scope `module:<owner>`) or an administrator; a key acting for no owner
    is refused, another owner's source answers like one that does not exist."""
    owned = principal.scoped_values("module")
    if not principal.has("admin") and not owned:
        raise Problem(403, "This key acts for no module owner (scope module:<owner>).")
    if not (principal.has("admin") or owner in owned):
        raise not_visible()


def not_visible() -> Problem:
    return Problem(404, "Nothing at this address is visible to this key.")


def unit_of_work(request: Request):
    """A unit of work on the service's database (its store: `uow.store`)."""
    return request.app.state.db.unit_of_work()
