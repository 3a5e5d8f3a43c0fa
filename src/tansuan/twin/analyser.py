"""CEMS analysers: noise, drift between calibrations, a daily calibration window.

A gas analyser drifts between its daily zero/span checks (HJ 75-2017 requires daily
checks of CO2/SO2/NOx analysers); while it checks, its values carry flag ``C``
(HJ 212-2017 Table 8: calibrating) and are not measurements. Here the drift grows
linearly from 0 at the end of a calibration to a random share (within ±60 %) of the
analyser's *stated error* by the next one, and the per-reading noise is small, so an
hourly mean stays within the stated error of the true value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tansuan.twin.calendar import F64, DayGrid


@dataclass(frozen=True)
class Analyser:
    """One analyser (concentration or flow).

    Attributes
    ----------
    stated_error : the largest relative error of an hourly mean the maker states [fraction]
    noise : relative standard deviation of one reading [fraction]
    calibration_hour : local hour the daily check starts [h]
    calibration_min : how long it lasts [min]
    """

    stated_error: float = 0.025
    noise: float = 0.003
    calibration_hour: float = 2.0
    calibration_min: float = 15.0

    def calibrating(self, grid: DayGrid) -> np.ndarray:
        """True at the steps inside the daily calibration window."""
        start = self.calibration_hour
        return (grid.hour >= start) & (grid.hour < start + self.calibration_min / 60.0)

    def measure(self, true: F64, grid: DayGrid, rng: np.random.Generator) -> tuple[F64, np.ndarray]:
        """Readings and their HJ 212 flags for the true values ``true`` (one day)."""
        drift_end = rng.uniform(-0.6, 0.6) * self.stated_error
        since = ((grid.hour - self.calibration_hour - self.calibration_min / 60.0) % 24.0) / 24.0
        noise = np.clip(rng.standard_normal(grid.n), -3, 3) * self.noise
        measured = true * (1.0 + drift_end * since + noise)
        window = self.calibrating(grid)
        flags = np.where(window, "C", "N")
        # During the check the analyser reads the span gas, not the flue gas.
        span = float(np.max(true)) if true.size else 0.0
        measured = np.where(window, span * 0.8, measured)
        return np.maximum(measured, 0.0), flags
