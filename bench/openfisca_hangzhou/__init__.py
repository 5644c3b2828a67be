"""hangzhou-2021 as an OpenFisca tax-benefit system: the peer `make bench` measures the engine against.

A development dependency only: nothing in the services imports it.
"""

from __future__ import annotations

from pathlib import Path

from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from bench.openfisca_hangzhou import variables
from bench.openfisca_hangzhou.entities import entities

PARAMETERS = Path(__file__).parent / "parameters"


class HangzhouSystem(TaxBenefitSystem):
    """Persons, their input facts, the points formulas and the dated parameters."""

    def __init__(self) -> None:
        super().__init__(entities)
        self.add_variables(*variables.INPUTS, *variables.FORMULAS)
        self.load_parameters(str(PARAMETERS))
