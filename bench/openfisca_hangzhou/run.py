"""A population file through the OpenFisca system, batch by batch: each holder's total points."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pyarrow as pa
from openfisca_core.simulation_builder import SimulationBuilder

from bench.openfisca_hangzhou import HangzhouSystem
from bench.openfisca_hangzhou.inputs import person_inputs


def batch_totals(system: HangzhouSystem, batch: pa.RecordBatch, cut_off: date) -> np.ndarray:
    """One simulation over the batch's persons, on the cut-off day."""
    period = cut_off.isoformat()
    inputs = person_inputs(batch, cut_off, system.parameters(period))
    simulation = SimulationBuilder().build_default_simulation(system, batch.num_rows)
    for name, values in inputs.items():
        simulation.set_input(name, period, values)
    return simulation.calculate("total_points", period)


def totals(system: HangzhouSystem, batches: Iterable[pa.RecordBatch], cut_off: date) -> np.ndarray:
    return np.concatenate([batch_totals(system, b, cut_off) for b in batches])
