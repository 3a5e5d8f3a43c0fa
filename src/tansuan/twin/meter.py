"""Electricity meters: cumulative registers from power, with optional rollover.

A meter's register is the running integral of the power it sees,
``E_i = E_0 + Σ_{k≤i} P_k Δt`` [kWh], wrapping to 0 past ``rollover`` (a uint32 register
of 0.01 kWh wraps at 42,949,672.95 kWh).
"""

from __future__ import annotations

import numpy as np

from tansuan.twin.calendar import F64


def register(
    power_kw: F64, step_s: float, start_kwh: F64, rollover: float | None = None
) -> tuple[F64, F64]:
    """Register values at each step (rows = meters) and the totals at the end [kWh].

    >>> values, end = register(np.array([[60.0, 60.0]]), 60, np.array([0.0]))
    >>> values.tolist(), end.tolist()
    ([[1.0, 2.0]], [2.0])
    """
    energy = np.cumsum(power_kw * (step_s / 3600.0), axis=1) + start_kwh[:, None]
    end = energy[:, -1].copy() if energy.shape[1] else start_kwh.copy()
    if rollover is not None:
        energy = np.mod(energy, rollover)
    return energy, end
