"""Regression energy baselines (ISO 50006 statistical-model EnB) with their statistics.

``fit_baseline`` fits energy on relevant variables by ordinary least squares and reports
what a reviewer asks for: coefficients with standard errors and t statistics, R²,
adjusted R², CV(RMSE), NMBE, lag-1 residual autocorrelation and the checks of

* ASHRAE Guideline 14 (regression-baseline CV(RMSE) ladder; calibration NMBE/CV(RMSE)),
* DOE 50001 Ready / EnPI Lite (R² ≥ 0.5, F-test p < 0.10, variable p-values, domain).

Formulas (energy-analytics.md §2.1; G14 sign convention measured − predicted)::

    CV(RMSE) [%] = 100 · sqrt(Σ (y − ŷ)² / (n − p)) / ȳ
    NMBE     [%] = 100 · Σ (y − ŷ) / ((n − p) · ȳ)

with ``p`` the number of fitted coefficients including the intercept (recorded on the
result as ``p``). Thresholds come from ``analytics_criteria.csv``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tansuan.analytics import stats
from tansuan.analytics.reference import criterion
from tansuan.errors import InputError

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Check:
    """One acceptance check: its name, the value, the limit, and whether it passed."""

    name: str
    value: float
    limit: str
    passed: bool


@dataclass(frozen=True)
class Baseline:
    """A fitted regression baseline ``E = β0 + Σ βk·Xk``.

    Attributes
    ----------
    drivers
        Names of the relevant variables, in coefficient order after the intercept.
    coefficients, std_errors, t_stats, p_values
        Intercept first [energy unit, energy unit per driver unit].
    n, p
        Observations and fitted parameters (intercept included).
    r2, adj_r2, cv_rmse, nmbe
        Fit statistics; CV(RMSE) and NMBE in [%] (NMBE: measured − predicted).
    rmse
        sqrt(SSE / (n − p)) [energy unit]: σ of the residuals.
    rho
        Lag-1 autocorrelation of the residuals.
    f_p_value
        p-value of the overall F-test.
    """

    drivers: tuple[str, ...]
    coefficients: Array
    std_errors: Array
    t_stats: Array
    p_values: Array
    n: int
    p: int
    r2: float
    adj_r2: float
    cv_rmse: float
    nmbe: float
    rmse: float
    mean_energy: float
    rho: float
    f_p_value: float
    residuals: Array = field(repr=False)
    driver_min: Array = field(repr=False)
    driver_max: Array = field(repr=False)
    driver_mean: Array = field(repr=False)
    driver_std: Array = field(repr=False)
    xtx_inv: Array = field(repr=False)

    @property
    def n_effective(self) -> float:
        """Effective sample size n' = n·(1 − ρ)/(1 + ρ) (energy-analytics.md §2.4)."""
        rho = max(self.rho, 0.0)
        return self.n * (1.0 - rho) / (1.0 + rho)

    def design(self, drivers: Mapping[str, ArrayLike]) -> Array:
        """The design matrix (intercept column first) for ``drivers``."""
        columns = [_vector(drivers, name) for name in self.drivers]
        length = len(columns[0]) if columns else _length(drivers)
        return np.column_stack([np.ones(length), *columns]) if columns else np.ones((length, 1))

    def predict(self, drivers: Mapping[str, ArrayLike]) -> Array:
        """Predicted energy for each period of ``drivers`` [energy unit]."""
        return self.design(drivers) @ self.coefficients

    def prediction_se(self, drivers: Mapping[str, ArrayLike]) -> Array:
        """Standard error of a new observation at each row: σ·sqrt(1 + x'(X'X)⁻¹x)."""
        x = self.design(drivers)
        leverage = np.einsum("ij,jk,ik->i", x, self.xtx_inv, x)
        out: Array = self.rmse * np.sqrt(1.0 + leverage)
        return out

    def g14_regression(self, post_months: float, *, quantity: str = "energy") -> Check:
        """G14 regression-baseline CV(RMSE) ladder for ``post_months`` of reporting data."""
        key = "lt12" if post_months < 12 else ("12to60" if post_months <= 60 else "gt60")
        limit = criterion(f"g14_regression_{quantity}_cvrmse", key)
        return Check(
            "CV(RMSE) G14 regression", self.cv_rmse, f"≤ {limit:g} %", self.cv_rmse <= limit
        )

    def g14_calibration(self, resolution: Literal["monthly", "hourly"]) -> tuple[Check, Check]:
        """G14 calibrated-model criteria (monthly 15 %/±5 %, hourly 30 %/±10 %)."""
        cv_limit = criterion("g14_calibration_cvrmse", resolution)
        nmbe_limit = criterion("g14_calibration_nmbe", resolution)
        return (
            Check(
                "CV(RMSE) G14 calibration",
                self.cv_rmse,
                f"≤ {cv_limit:g} %",
                self.cv_rmse <= cv_limit,
            ),
            Check(
                "NMBE G14 calibration",
                self.nmbe,
                f"±{nmbe_limit:g} %",
                abs(self.nmbe) <= nmbe_limit,
            ),
        )

    def doe_checks(self, reporting: Mapping[str, ArrayLike] | None = None) -> list[Check]:
        """DOE 50001 Ready / EnPI Lite validity checks (energy-analytics.md §1.5)."""
        out = [
            Check(
                "R²",
                self.r2,
                f"≥ {criterion('doe_validity', 'r2_min'):g}",
                self.r2 >= criterion("doe_validity", "r2_min"),
            ),
            Check(
                "F-test p",
                self.f_p_value,
                f"< {criterion('doe_validity', 'model_p_max'):g}",
                self.f_p_value < criterion("doe_validity", "model_p_max"),
            ),
        ]
        if self.drivers:
            var_p = self.p_values[1:]
            limit = criterion("doe_validity", "variable_p_max")
            best = criterion("doe_validity", "best_variable_p_max")
            out.append(
                Check(
                    "max variable p", float(var_p.max()), f"< {limit:g}", bool(var_p.max() < limit)
                )
            )
            out.append(
                Check("min variable p", float(var_p.min()), f"< {best:g}", bool(var_p.min() < best))
            )
        if reporting is not None:
            sigma = criterion("doe_validity", "domain_sigma")
            for i, name in enumerate(self.drivers):
                mean = float(np.mean(_vector(reporting, name)))
                inside = self.driver_min[i] <= mean <= self.driver_max[i] or (
                    abs(mean - self.driver_mean[i]) <= sigma * self.driver_std[i]
                )
                out.append(
                    Check(
                        f"domain {name}",
                        mean,
                        f"[{self.driver_min[i]:g}, {self.driver_max[i]:g}] or ±{sigma:g}σ",
                        inside,
                    )
                )
        return out


def day_type_drivers(
    dates: Sequence[dt.date], baseline: ArrayLike
) -> tuple[dict[str, Array], dict[str, Array]]:
    """Drivers when none is measured: the day type, for the fit and for every day.

    A weekend flag (Saturday, Sunday = 1) when the baseline days (``baseline`` true) hold
    both weekdays and weekend days; otherwise a mean baseline, whose prediction only
    needs the number of days (carried by a ``_days`` column the model does not read).

    Returns
    -------
    (fit, every)
        Drivers of the baseline days, and drivers of all ``dates`` to predict with.
    """
    base = np.asarray(baseline, dtype=bool)
    weekend = np.array([1.0 if d.weekday() >= 5 else 0.0 for d in dates])
    if 0 < weekend[base].sum() < base.sum():
        return {"weekend": weekend[base]}, {"weekend": weekend}
    return {}, {"_days": np.zeros(len(dates))}


def _length(drivers: Mapping[str, ArrayLike]) -> int:
    for value in drivers.values():
        return len(np.atleast_1d(np.asarray(value)))
    raise InputError("no drivers given and no length to predict", field="drivers")


def _vector(drivers: Mapping[str, ArrayLike], name: str) -> Array:
    if name not in drivers:
        raise InputError(f"driver {name!r} is missing", field=f"drivers.{name}")
    out = np.asarray(drivers[name], dtype=np.float64)
    if out.ndim != 1:
        raise InputError(f"driver {name!r} must be one-dimensional", field=f"drivers.{name}")
    if not np.all(np.isfinite(out)):
        raise InputError(f"driver {name!r} has missing or infinite values", field=f"drivers.{name}")
    return out


def fit_baseline(energy: ArrayLike, drivers: Mapping[str, ArrayLike] | None = None) -> Baseline:
    """Fit ``energy ~ 1 + drivers`` by OLS.

    Parameters
    ----------
    energy
        Measured energy per baseline period [any energy unit], e.g. daily kWh.
    drivers
        Relevant variables per period (production [t], operating hours [h], HDD/CDD [K·d]);
        none gives the mean model.

    Raises
    ------
    InputError
        Lengths differ, values are missing, too few periods, or the drivers are collinear.
    """
    y = np.asarray(energy, dtype=np.float64)
    if y.ndim != 1 or not np.all(np.isfinite(y)):
        raise InputError("energy must be a one-dimensional series without gaps", field="energy")
    names = tuple(drivers or {})
    columns = [_vector(drivers or {}, name) for name in names]
    for name, column in zip(names, columns, strict=True):
        if len(column) != len(y):
            raise InputError(
                f"driver {name!r} has {len(column)} periods, energy has {len(y)}",
                field=f"drivers.{name}",
            )
    n, p = len(y), len(names) + 1
    if n <= p + 1:
        raise InputError(f"{n} periods are too few to fit {p} parameters", field="energy")
    x = np.column_stack([np.ones(n), *columns])
    if np.linalg.matrix_rank(x) < p:
        raise InputError("drivers are collinear (or constant); drop one", field="drivers")
    solution, *_ = np.linalg.lstsq(x, y, rcond=None)
    beta: Array = np.asarray(solution, dtype=np.float64)
    fitted = x @ beta
    resid = y - fitted
    dof = n - p
    sse = float(resid @ resid)
    ybar = float(y.mean())
    sst = float(((y - ybar) ** 2).sum())
    if ybar == 0.0:
        raise InputError("mean energy is zero; CV(RMSE) is undefined", field="energy")
    rmse = (sse / dof) ** 0.5
    xtx_inv = np.linalg.inv(x.T @ x)
    se = rmse * np.sqrt(np.diag(xtx_inv))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, beta / se, np.inf)
    p_values = np.array([stats.two_sided_p(float(v), dof) if np.isfinite(v) else 0.0 for v in t])
    r2 = 1.0 - sse / sst if sst > 0 else 0.0
    adj = 1.0 - (1.0 - r2) * (n - 1) / dof
    if len(names) and sst > 0 and sse > 0:
        f = ((sst - sse) / len(names)) / (sse / dof)
        f_p = stats.f_sf(f, len(names), dof)
    else:
        f_p = 0.0 if sse == 0 else 1.0
    rho = float(np.corrcoef(resid[:-1], resid[1:])[0, 1]) if n > 2 and resid.std() > 0 else 0.0
    drv = np.column_stack(columns) if columns else np.empty((n, 0))
    return Baseline(
        drivers=names,
        coefficients=beta,
        std_errors=se,
        t_stats=t,
        p_values=p_values,
        n=n,
        p=p,
        r2=r2,
        adj_r2=adj,
        cv_rmse=100.0 * rmse / ybar,
        nmbe=100.0 * float(resid.sum()) / (dof * ybar),
        rmse=rmse,
        mean_energy=ybar,
        rho=rho,
        f_p_value=f_p,
        residuals=resid,
        driver_min=drv.min(axis=0) if columns else np.empty(0),
        driver_max=drv.max(axis=0) if columns else np.empty(0),
        driver_mean=drv.mean(axis=0) if columns else np.empty(0),
        driver_std=drv.std(axis=0, ddof=1) if columns else np.empty(0),
        xtx_inv=xtx_inv,
    )


def degree_days(
    mean_temperature: ArrayLike, *, kind: Literal["hdd", "cdd"], base: float | None = None
) -> Array:
    """Daily degree-days [K·d] from daily mean temperatures [°C].

    ``HDD = max(base − T, 0)``, ``CDD = max(T − base, 0)``; the default bases are the Chinese
    HDD18 / CDD26 from ``analytics_criteria.csv``.
    """
    t = np.asarray(mean_temperature, dtype=np.float64)
    b = criterion("degree_day_base", kind) if base is None else base
    return np.maximum(b - t, 0.0) if kind == "hdd" else np.maximum(t - b, 0.0)


def specific_consumption(energy: ArrayLike, output: ArrayLike) -> float:
    """Ratio EnPI: Σ energy / Σ output (e.g. [kWh/t]); refuses zero output."""
    total_out = float(np.sum(np.asarray(output, dtype=np.float64)))
    if total_out <= 0:
        raise InputError("output is zero; specific consumption is undefined", field="output")
    return float(np.sum(np.asarray(energy, dtype=np.float64))) / total_out


def normalised_enpi(
    baseline: Baseline, energy: ArrayLike, drivers: Mapping[str, ArrayLike]
) -> float:
    """ISO 50006 normalised EnPI: E_reporting / Ê_baseline(X_reporting); < 1 is an improvement."""
    expected = float(baseline.predict(drivers).sum())
    if expected <= 0:
        raise InputError("the baseline predicts no energy for these drivers", field="drivers")
    return float(np.sum(np.asarray(energy, dtype=np.float64))) / expected


def summary(baseline: Baseline) -> dict[str, object]:
    """A JSON-able summary for CLI/API output."""
    names: Sequence[str] = ("intercept", *baseline.drivers)
    return {
        "n": baseline.n,
        "p": baseline.p,
        "coefficients": {k: float(v) for k, v in zip(names, baseline.coefficients, strict=True)},
        "t_stats": {k: float(v) for k, v in zip(names, baseline.t_stats, strict=True)},
        "p_values": {k: float(v) for k, v in zip(names, baseline.p_values, strict=True)},
        "r2": baseline.r2,
        "adj_r2": baseline.adj_r2,
        "cv_rmse_pct": baseline.cv_rmse,
        "nmbe_pct": baseline.nmbe,
        "nmbe_sign": "measured - predicted (ASHRAE G14)",
        "rmse": baseline.rmse,
        "rho_lag1": baseline.rho,
    }
