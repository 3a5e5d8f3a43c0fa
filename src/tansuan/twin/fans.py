"""Fans and pumps by the affinity laws, with on/off or VFD control.

For one fan or pump on the same system curve (friction-dominated, no static lift —
US DOE AMO Motor Systems Tip Sheet #11; energy-analytics reference §5.1):

* flow ∝ speed, ``Q2/Q1 = N2/N1``
* pressure ∝ speed², ``p2/p1 = (N2/N1)²``
* shaft power ∝ speed³, ``W2/W1 = (N2/N1)³``

Electrical input = shaft power / (motor efficiency × drive efficiency). A VFD's own
efficiency falls at low speed (§5.2: ~94–97 % at full speed), modelled as
``η_vfd(s) = η_full × (1 − k (1 − s)²)``; direct-on-line units have no drive loss but
run at full speed only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tansuan.twin.calendar import F64


def affinity(
    speed: F64 | float, *, flow: float, pressure: float, power: float
) -> tuple[F64, F64, F64]:
    """Flow, pressure and shaft power at relative ``speed`` (1 = rated) from rated values.

    >>> q, p, w = affinity(0.8, flow=10.0, pressure=1000.0, power=50.0)
    >>> round(float(q), 3), round(float(p), 3), round(float(w), 3)
    (8.0, 640.0, 25.6)
    """
    s = np.asarray(speed, dtype=np.float64)
    return s * flow, s**2 * pressure, s**3 * power


def vfd_efficiency(speed: F64, full_speed_efficiency: float = 0.96, droop: float = 0.15) -> F64:
    """A VFD's efficiency at relative ``speed`` [fraction]."""
    s = np.clip(speed, 0.0, 1.0)
    return full_speed_efficiency * (1.0 - droop * (1.0 - s) ** 2)


@dataclass(frozen=True)
class FanBank:
    """A set of fans (or pumps), one row per unit, simulated together.

    Attributes
    ----------
    rated_kw : motor nameplate power [kW]
    load_factor : shaft power at full speed as a share of the nameplate [fraction]
    motor_efficiency : motor efficiency (aged units lower) [fraction]
    vfd : True where the unit has a VFD
    """

    rated_kw: F64
    load_factor: F64
    motor_efficiency: F64
    vfd: np.ndarray

    @property
    def n(self) -> int:
        return int(self.rated_kw.size)

    def electrical_kw(self, running: F64, speed: F64) -> F64:
        """Electrical input power [kW], arrays shaped (units, steps).

        ``running`` is the share of the step a unit runs (0…1); ``speed`` the relative
        speed while it runs (forced to 1 for units without a VFD).
        """
        vfd = self.vfd[:, None]
        s = np.where(vfd, np.clip(speed, 0.2, 1.0), 1.0)
        _, _, shaft = affinity(s, flow=1.0, pressure=1.0, power=1.0)
        shaft_kw = shaft * (self.rated_kw * self.load_factor)[:, None]
        drive = np.where(vfd, vfd_efficiency(s), 1.0)
        return np.asarray(running * shaft_kw / (self.motor_efficiency[:, None] * drive))
