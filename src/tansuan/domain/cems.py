"""CEMS measurement: hourly CO2 mass from concentration and flue-gas flow.

Equations of HJ 212-2017 Appendix D (which cites HJ/T 75-2007 and HJ/T 76-2007),
vectorised over numpy arrays of hours:

* (20) ``C_Q = M/22.4 × C_V`` — mg/m3 from µmol/mol (1 %vol = 10^4 µmol/mol);
* (18) ``C_sn = C_s × 101325/(B_a + P_s) × (273 + t_s)/273`` — actual → standard state;
* (19) ``C_dry = C_wet/(1 − X_sw)`` — wet → dry basis;
* (31) ``Q_snh = Q_sh × 273/(273 + t_s) × (B_a + P_s)/101325 × (1 − X_sw)`` — actual wet
  flow → standard dry flow [m3/h];
* (33) ``G_h = C_Qh × Q_snh × 10^-6`` [kg/h] — dry standard concentration × dry standard flow;
* (24) an hour is valid with at least 45 valid minutes; (25) a day with at least 20
  valid hours.

The standard state, molar volume and thresholds come from ``data/cems.csv``; the
molar mass of CO2 from ``data/chemistry.csv``. Invalid hours are excluded and counted;
substituting them (HJ 75) is the accounting layer's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from tansuan.domain import units
from tansuan.domain.catalog import FactorCatalog
from tansuan.domain.result import (
    EmissionResult,
    Formula,
    GwpLike,
    Origin,
    Parameter,
    emission_result,
)
from tansuan.errors import InputError

FloatArray = npt.NDArray[np.float64]
ArrayIn = float | FloatArray | list[float]

HOURLY_MASS = Formula(
    id="cems.hourly_mass",
    expression="G_h = C_Qh(dry, standard) × Q_snh(dry, standard) × 10^-6; E = Σ_valid h G_h",
    reference="HJ 212-2017 Appendix D eqs. (18), (19), (20), (31), (33); validity eq. (24)",
)


@dataclass(frozen=True)
class CemsConstants:
    """Constants of HJ 212-2017 Appendix D, each traced to its table row."""

    standard_pressure: Parameter  # [Pa]
    standard_temperature: Parameter  # [K]
    molar_volume: Parameter  # [L/mol]
    molar_mass_co2: Parameter  # [g/mol]
    min_minutes_per_hour: Parameter  # [count]
    min_hours_per_day: Parameter  # [count]

    @classmethod
    def from_catalog(cls, catalog: FactorCatalog) -> CemsConstants:
        """Read the constants from ``cems.csv`` and ``chemistry.csv``."""
        return cls(
            standard_pressure=catalog.constant("cems_constant", "standard_pressure", unit="Pa"),
            standard_temperature=catalog.constant(
                "cems_constant", "standard_temperature", unit="K"
            ),
            molar_volume=catalog.constant("cems_constant", "molar_volume", unit="L/mol"),
            molar_mass_co2=catalog.constant("molar_mass", "CO2", unit="g/mol"),
            min_minutes_per_hour=catalog.constant("cems_constant", "min_minutes_per_hour"),
            min_hours_per_day=catalog.constant("cems_constant", "min_hours_per_day"),
        )

    def all(self) -> tuple[Parameter, ...]:
        return (
            self.standard_pressure,
            self.standard_temperature,
            self.molar_volume,
            self.molar_mass_co2,
            self.min_minutes_per_hour,
        )


def _arr(values: ArrayIn) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def ppm_to_mg_per_m3(ppm: ArrayIn, molar_mass: float, molar_volume: float) -> FloatArray:
    """Eq. (20): C_Q [mg/m3] = M [g/mol] / V_m [L/mol] × C_V [µmol/mol]."""
    return _arr(ppm) * (molar_mass / molar_volume)


def actual_to_standard(
    concentration: ArrayIn,
    *,
    flue_temperature_c: ArrayIn,
    ambient_pressure_pa: ArrayIn,
    static_pressure_pa: ArrayIn,
    standard_pressure_pa: float,
    standard_temperature_k: float,
) -> FloatArray:
    """Eq. (18): C_sn = C_s × p0/(B_a + P_s) × (T0 + t_s)/T0 [same unit as C_s]."""
    absolute = _arr(ambient_pressure_pa) + _arr(static_pressure_pa)
    return (
        _arr(concentration)
        * (standard_pressure_pa / absolute)
        * ((standard_temperature_k + _arr(flue_temperature_c)) / standard_temperature_k)
    )


def wet_to_dry(concentration: ArrayIn, moisture: ArrayIn) -> FloatArray:
    """Eq. (19): C_dry = C_wet/(1 − X_sw); ``moisture`` X_sw as a fraction."""
    return _arr(concentration) / (1.0 - _arr(moisture))


def standard_dry_flow(
    flow_actual_wet: ArrayIn,
    *,
    flue_temperature_c: ArrayIn,
    ambient_pressure_pa: ArrayIn,
    static_pressure_pa: ArrayIn,
    moisture: ArrayIn,
    standard_pressure_pa: float,
    standard_temperature_k: float,
) -> FloatArray:
    """Eq. (31): Q_snh = Q_sh × T0/(T0 + t_s) × (B_a + P_s)/p0 × (1 − X_sw) [m3/h]."""
    absolute = _arr(ambient_pressure_pa) + _arr(static_pressure_pa)
    return (
        _arr(flow_actual_wet)
        * (standard_temperature_k / (standard_temperature_k + _arr(flue_temperature_c)))
        * (absolute / standard_pressure_pa)
        * (1.0 - _arr(moisture))
    )


def hourly_mass_kg(concentration_mg_m3: ArrayIn, flow_m3_h: ArrayIn) -> FloatArray:
    """Eq. (33): G_h [kg/h] = C [mg/m3] × Q [m3/h] × 10^-6 (both dry, standard state)."""
    return _arr(concentration_mg_m3) * _arr(flow_m3_h) * units.factor("mg", "kg")


def valid_periods(counts: ArrayIn, minimum: float) -> npt.NDArray[np.bool_]:
    """Eqs. (24)/(25): a period is valid when it has at least ``minimum`` valid sub-values."""
    return _arr(counts) >= minimum


Basis = Literal["dry", "wet"]
State = Literal["standard", "actual"]
FlowState = Literal["actual_wet", "standard_dry"]


def cems_co2(
    *,
    concentration: ArrayIn,
    concentration_unit: str,
    flow: ArrayIn,
    flow_unit: str,
    constants: CemsConstants,
    gwp: GwpLike,
    basis: Basis = "dry",
    state: State = "standard",
    flow_state: FlowState = "standard_dry",
    flue_temperature_c: ArrayIn | None = None,
    ambient_pressure_pa: ArrayIn | None = None,
    static_pressure_pa: ArrayIn = 0.0,
    moisture: ArrayIn | None = None,
    valid_minutes: ArrayIn | None = None,
    field: str = "cems",
) -> EmissionResult:
    """CO2 [t] over a run of hours measured by a CEMS.

    Parameters
    ----------
    concentration : hourly CO2 concentration, one value per hour [``concentration_unit``:
        mg/m3, %vol or ppm]
    flow : hourly flue-gas flow [``flow_unit``: m3/h, m3/s, Nm3/h …]
    basis : the analyser's basis (``wet`` needs ``moisture``)
    state : ``actual`` needs temperature and pressures (mass concentrations only; a
        volume fraction is the same in every state)
    flow_state : ``actual_wet`` flow is converted by eq. (31)
    flue_temperature_c : flue-gas temperature t_s [°C]
    ambient_pressure_pa, static_pressure_pa : B_a and P_s [Pa]
    moisture : X_sw [fraction]
    valid_minutes : valid minute values per hour; hours below the eq. (24) threshold
        are excluded (every hour counts as valid when not given)

    Raises
    ------
    InputError
        arrays of different lengths, negative values, a correction without its inputs.
    """
    c = _arr(concentration).ravel()
    q = _arr(flow).ravel()
    n = c.size
    if q.size != n:
        raise InputError(f"{n} concentration values but {q.size} flow values", field=field)
    if (c < 0).any() or (q < 0).any():
        raise InputError("concentration and flow must not be negative", field=field)
    p0 = constants.standard_pressure.to("Pa")
    t0 = constants.standard_temperature.to("K")
    notes: list[str] = []

    def need(value: ArrayIn | None, name: str) -> ArrayIn:
        if value is None:
            raise InputError(f"{name} is needed for this correction", field=f"{field}.{name}")
        return value

    if moisture is not None and not ((_arr(moisture) >= 0) & (_arr(moisture) < 1)).all():
        raise InputError("moisture is a fraction in [0, 1)", field=f"{field}.moisture")
    if (
        ambient_pressure_pa is not None
        and (_arr(ambient_pressure_pa) + _arr(static_pressure_pa) <= 0).any()
    ):
        raise InputError(
            "ambient + static pressure must be positive", field=f"{field}.ambient_pressure"
        )
    if flue_temperature_c is not None and (_arr(flue_temperature_c) <= -t0).any():
        raise InputError("flue temperature below absolute zero", field=f"{field}.flue_temperature")

    # concentration → mg/m3
    c_unit = units.unit(concentration_unit)
    if units.same_dimension(concentration_unit, "ppm"):
        ppm = c * units.factor(concentration_unit, "ppm")
        c_mg = ppm_to_mg_per_m3(
            ppm, constants.molar_mass_co2.to("g/mol"), constants.molar_volume.to("L/mol")
        )
        notes.append(
            f"{c_unit:~P} → mg/m3 by eq. (20); a volume fraction needs no state correction"
        )
    else:
        c_mg = c * units.factor(concentration_unit, "mg/m**3")
        if state == "actual":
            c_mg = actual_to_standard(
                c_mg,
                flue_temperature_c=need(flue_temperature_c, "flue_temperature"),
                ambient_pressure_pa=need(ambient_pressure_pa, "ambient_pressure"),
                static_pressure_pa=static_pressure_pa,
                standard_pressure_pa=p0,
                standard_temperature_k=t0,
            )
            notes.append("concentration actual → standard state by eq. (18)")
    if basis == "wet":
        c_mg = wet_to_dry(c_mg, need(moisture, "moisture"))
        notes.append("concentration wet → dry basis by eq. (19)")

    # flow → standard dry m3/h
    if flow_state == "actual_wet":
        q_h = q * units.factor(flow_unit, "m**3/h")
        q_std = standard_dry_flow(
            q_h,
            flue_temperature_c=need(flue_temperature_c, "flue_temperature"),
            ambient_pressure_pa=need(ambient_pressure_pa, "ambient_pressure"),
            static_pressure_pa=static_pressure_pa,
            moisture=need(moisture, "moisture"),
            standard_pressure_pa=p0,
            standard_temperature_k=t0,
        )
        notes.append("flow actual wet → standard dry by eq. (31)")
    elif units.same_dimension(flow_unit, "Nm3/h"):
        q_std = q * units.factor(flow_unit, "Nm3/h")
    else:
        q_std = q * units.factor(flow_unit, "m**3/h")

    g_kg_h = hourly_mass_kg(c_mg, q_std)
    if valid_minutes is None:
        valid = np.ones(n, dtype=bool)
    else:
        minutes = _arr(valid_minutes).ravel()
        if minutes.size != n:
            raise InputError(f"{n} hours but {minutes.size} minute counts", field=field)
        valid = valid_periods(minutes, constants.min_minutes_per_hour.value)
    n_valid = int(valid.sum())
    co2_t = float(g_kg_h[valid].sum()) * units.factor("kg", "t")  # kg/h × 1 h each
    if n_valid < n:
        notes.append(
            f"{n - n_valid} of {n} hours had fewer than "
            f"{constants.min_minutes_per_hour.value:g} valid minutes (eq. (24)) and are "
            "excluded; substitution (HJ 75) is up to the accounting run"
        )
    inputs = [
        Parameter("hours", float(n), "h", Origin.INPUT, f"measured: {field}", field=field),
        Parameter(
            "co2_concentration_mean",
            float(c.mean()) if n else 0.0,
            concentration_unit,
            Origin.MEASURED,
            f"measured: {field}.concentration",
            field=f"{field}.concentration",
        ),
        Parameter(
            "flue_gas_flow_mean",
            float(q.mean()) if n else 0.0,
            flow_unit,
            Origin.MEASURED,
            f"measured: {field}.flow",
            field=f"{field}.flow",
        ),
    ]
    return emission_result(
        "cems",
        {"CO2": co2_t},
        gwp=gwp,
        formula=HOURLY_MASS,
        inputs=inputs,
        factors=constants.all(),
        notes=notes,
        details={"hours": float(n), "valid_hours": float(n_valid)},
    )
