"""Air compressors with load/unload control.

A load/unload screw compressor runs loaded (full power) until the receiver reaches
its upper pressure, then unloaded (a share of full power, typically 25–35 %) until the
lower pressure; over a cycle the loaded share equals demand / capacity. At steps
shorter than the cycle the state is simulated (loaded or unloaded in each step); at
longer steps the cycle-average power is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tansuan.twin.calendar import F64


@dataclass(frozen=True)
class Compressor:
    """One compressor.

    Attributes
    ----------
    rated_kw : loaded input power [kW]
    unloaded_share : input power when unloaded, as a share of loaded [fraction]
    cycle_s : length of one load/unload cycle [s]
    """

    rated_kw: float
    unloaded_share: float = 0.3
    cycle_s: float = 300.0

    def power_kw(self, loaded_share: F64, running: F64, ts_s: F64, step_s: float) -> F64:
        """Input power [kW] at each step for a demand of ``loaded_share`` (0…1)."""
        share = np.clip(loaded_share, 0.0, 1.0)
        if step_s < self.cycle_s:
            phase = ((ts_s % self.cycle_s) + step_s / 2) / self.cycle_s
            share = (phase < share).astype(np.float64)
        power = self.rated_kw * (self.unloaded_share + (1 - self.unloaded_share) * share)
        return np.asarray(power * running)
