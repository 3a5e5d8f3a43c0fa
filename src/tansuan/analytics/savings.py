"""IPMVP avoided energy (Option B / C) with the ASHRAE Guideline 14 savings uncertainty.

Avoided energy (IPMVP Core Concepts; energy-analytics.md §3.2)::

    Avoided = Ê_baseline(X_reporting) ± non-routine adjustments − E_reporting

where the baseline model is evaluated at the reporting-period drivers (routine
adjustment). Option B applies it to a sub-metered system, Option C to a whole facility;
the arithmetic is the same, the label records the boundary.

Fractional savings uncertainty, ASHRAE Guideline 14 (Reddy & Claridge form; the
"G14 FSU equation", energy-analytics.md §2.4)::

    ΔE_save / E_save = t · 1.26 · CV · sqrt( (n/n') · (1 + 2/n') · (1/m) ) / F

CV = baseline CV(RMSE) as a fraction, n baseline periods, n' = n(1 − ρ)/(1 + ρ) with ρ the
lag-1 autocorrelation of the baseline residuals, m reporting periods, F = savings /
adjusted-baseline energy, t the two-sided Student t at the chosen confidence with n − p
degrees of freedom. The 1.26 correction is read from ``analytics_criteria.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from tansuan.analytics import stats
from tansuan.analytics.baseline import Baseline
from tansuan.analytics.reference import criterion
from tansuan.errors import InputError


@dataclass(frozen=True)
class Savings:
    """Verified savings over a reporting period.

    Attributes
    ----------
    option
        IPMVP option ``"B"`` (retrofit isolation) or ``"C"`` (whole facility).
    adjusted_baseline, reporting, avoided
        Σ Ê_baseline(X_reporting) ± NRA, Σ E_reporting, their difference [energy unit].
    fraction
        avoided / adjusted_baseline.
    fsu
        Fractional savings uncertainty at ``confidence`` (ΔE_save / E_save).
    interval, fraction_interval
        avoided ± fsu·avoided [energy unit]; the same as fractions of the adjusted baseline.
    avoided_tco2e
        Avoided emissions [tCO2e] when an emission factor was given, else None.
    """

    option: Literal["B", "C"]
    adjusted_baseline: float
    reporting: float
    avoided: float
    fraction: float
    fsu: float
    confidence: float
    interval: tuple[float, float]
    fraction_interval: tuple[float, float]
    n: int
    n_effective: float
    m: int
    t: float
    correction: float
    avoided_tco2e: float | None
    method: str = "IPMVP avoided energy; ASHRAE G14 FSU"


Correction = Literal["g14", "caltrack_monthly", "caltrack_daily"]


def correction_factor(kind: Correction = "g14", months: float = 12.0) -> float:
    """The FSU correction: G14's 1.26, or CalTRACK 2.0's a·M² + b·M + d (4.3.2.4, Sun &
    Baltazar 2013) with M = months in the reporting period; all read from the table."""
    if kind == "g14":
        return criterion("fsu_correction", "g14")
    if kind not in ("caltrack_monthly", "caltrack_daily"):
        raise InputError(f"unknown FSU correction {kind!r}", field="correction")
    table = f"fsu_polynomial_{kind.removeprefix('caltrack_')}"
    a, b, d = (criterion(table, k) for k in ("a", "b", "d"))
    return a * months**2 + b * months + d


def fractional_savings_uncertainty(
    cv: float,
    fraction: float,
    *,
    n: int,
    m: int,
    rho: float = 0.0,
    p: int = 2,
    confidence: float = 0.9,
    correction: Correction = "g14",
    months: float | None = None,
) -> float:
    """The G14 FSU (see module docstring); ``cv`` and ``fraction`` as fractions, not %.

    ``correction`` picks G14's 1.26 or a CalTRACK polynomial evaluated at ``months``
    (default 12) reporting months.

    Raises
    ------
    InputError
        A zero savings fraction (no uncertainty relative to nothing), bad counts.
    """
    if fraction == 0:
        raise InputError(
            "savings fraction is zero: the fractional uncertainty is undefined", field="fraction"
        )
    if n <= p or m < 1:
        raise InputError(f"need n > p and m ≥ 1, got n={n}, p={p}, m={m}", field="n")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence}", field="confidence")
    r = max(rho, 0.0)
    n_eff = n * (1.0 - r) / (1.0 + r)
    t = stats.t_ppf(0.5 + confidence / 2.0, n - p)
    factor = correction_factor(correction, 12.0 if months is None else months)
    return t * factor * cv * float(np.sqrt((n / n_eff) * (1.0 + 2.0 / n_eff) / m)) / abs(fraction)


def avoided_energy(
    baseline: Baseline,
    reporting_energy: ArrayLike,
    reporting_drivers: Mapping[str, ArrayLike],
    *,
    option: Literal["B", "C"] = "B",
    confidence: float = 0.9,
    non_routine: float = 0.0,
    factor_t_per_unit: float | None = None,
    correction: Correction = "g14",
    reporting_months: float | None = None,
) -> Savings:
    """IPMVP avoided energy with its G14 uncertainty interval.

    Parameters
    ----------
    baseline
        The baseline model fitted on the pre-intervention periods.
    reporting_energy, reporting_drivers
        Measured energy and drivers per reporting period (same period length as the baseline).
    option
        IPMVP option label, ``"B"`` or ``"C"``.
    confidence
        Two-sided confidence level of the interval (0.9 is the common G14 choice).
    non_routine
        Non-routine adjustment added to the adjusted baseline [energy unit].
    factor_t_per_unit
        Emission factor [tCO2e per energy unit], e.g. 0.5703e-3 t/kWh; none skips emissions.
    correction, reporting_months
        FSU correction (G14 1.26 or a CalTRACK polynomial at ``reporting_months``).
    """
    if option not in ("B", "C"):
        raise InputError(f"IPMVP option must be B or C, got {option!r}", field="option")
    energy = np.asarray(reporting_energy, dtype=np.float64)
    if energy.ndim != 1 or not np.all(np.isfinite(energy)) or len(energy) == 0:
        raise InputError(
            "reporting energy must be a non-empty series without gaps", field="reporting_energy"
        )
    expected = baseline.predict(reporting_drivers)
    if len(expected) != len(energy):
        raise InputError(
            f"reporting drivers have {len(expected)} periods, energy has {len(energy)}",
            field="reporting_drivers",
        )
    adjusted = float(expected.sum()) + non_routine
    reporting = float(energy.sum())
    avoided = adjusted - reporting
    fraction = avoided / adjusted
    m = len(energy)
    fsu = fractional_savings_uncertainty(
        baseline.cv_rmse / 100.0,
        fraction,
        n=baseline.n,
        m=m,
        rho=baseline.rho,
        p=baseline.p,
        confidence=confidence,
        correction=correction,
        months=reporting_months,
    )
    half = fsu * abs(avoided)
    return Savings(
        option=option,
        adjusted_baseline=adjusted,
        reporting=reporting,
        avoided=avoided,
        fraction=fraction,
        fsu=fsu,
        confidence=confidence,
        interval=(avoided - half, avoided + half),
        fraction_interval=((avoided - half) / adjusted, (avoided + half) / adjusted),
        n=baseline.n,
        n_effective=baseline.n_effective,
        m=m,
        t=stats.t_ppf(0.5 + confidence / 2.0, baseline.n - baseline.p),
        correction=correction_factor(
            correction, 12.0 if reporting_months is None else reporting_months
        ),
        avoided_tco2e=None if factor_t_per_unit is None else avoided * factor_t_per_unit,
    )
