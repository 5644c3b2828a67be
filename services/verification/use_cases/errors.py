"""What verification's operations refuse; the api maps each to its problem document."""

from __future__ import annotations


class NotVisible(Exception):
    """Nothing the caller may see: unknown, or another department's (the same answer either way)."""


class AlreadyDecided(Exception):
    def __init__(self, task_id: int) -> None:
        super().__init__(f"Review task {task_id} was already decided.")


class NoEarlierAnswer(Exception):
    """A desk decision revises the department's answer: there must be one."""

    def __init__(self, department: str, application_id: str) -> None:
        super().__init__(f"The {department} department has no earlier answer for {application_id} to revise.")


class FactsRefused(Exception):
    """A decision's facts do not fit its item (not its facts, or none to confirm with)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(detail)
        self.message, self.detail = message, detail


class MaterialUnreachable(Exception):
    """Intake could not be asked for the material."""


class MaterialRefused(Exception):
    """Intake answered, but not with the material."""

    def __init__(self, status: int) -> None:
        super().__init__(f"Intake answered {status} for the material.")
        self.status = status


class MaterialAltered(Exception):
    """What intake returned is not what was uploaded."""
