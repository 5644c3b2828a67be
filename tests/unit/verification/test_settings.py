"""Verification's own settings: which departments a process answers for."""

from __future__ import annotations

import pytest

from services.verification.settings import VerificationSettings
from shared.departments import DEPARTMENTS


def test_a_process_answers_for_the_departments_named_or_all_of_them():
    assert VerificationSettings(verification_departments=" police, tax ").answering() == ["police", "tax"]
    assert VerificationSettings(verification_departments="").answering() == list(DEPARTMENTS)


def test_an_unknown_department_stops_the_process_naming_it():
    with pytest.raises(SystemExit, match="unknown departments: polise"):
        VerificationSettings(verification_departments="police,polise").answering()
