"""Fuel combustion: CO2 from fuel consumed, its carbon content and oxidation rate.

Two variants, as in the MEE power-sector guideline (企业温室气体排放核算与报告指南 发电设施,
2022 revision) and the 2013 sector guidelines:

* heat-based: ``E = FC × NCV × CC × OF × 44/12`` — carbon per unit heat (CC, tC/GJ)
  times the net calorific value (NCV, GJ per unit of fuel);
* element-carbon: ``E = FC × C_ar × OF × 44/12`` — measured as-received carbon
  content (C_ar, tC per unit of fuel), with the basis conversion of coal analysis
  (GB/T 483): ``C_ar = C_ad × (100 − M_ar)/(100 − M_ad)`` and ``C_ar = C_d × (100 − M_ar)/100``.

CH4 and N2O are optional (IPCC 2006 Vol. 2 eq. 2.1, tier 1):
``E_gas = FC × NCV × EF_gas`` with EF in kg/TJ.

The array functions take and return plain numbers or numpy arrays; :func:`combustion`
wraps them with units, provenance and CO2e.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

from tansuan.domain import units
from tansuan.domain.result import (
    EmissionResult,
    Formula,
    GwpLike,
    Parameter,
    emission_result,
    product_factor,
    require_fraction,
    require_non_negative,
    sibling_field,
)
from tansuan.errors import InputError, MissingParameter

ArrayLike = TypeVar("ArrayLike", float, npt.NDArray[np.float64])

HEAT_BASED = Formula(
    id="combustion.heat_based",
    expression="E_CO2 = FC × NCV × CC × OF × 44/12",
    reference="MEE 发电设施 guideline (2022 rev.): E_combustion = Σ FC × C_ar × OF × 44/12 with "
    "C_ar = NCV_ar × CC; NDRC 2013 sector guidelines (fuel combustion); IPCC 2006 Vol. 2 eq. 2.1",
)
ELEMENT_CARBON = Formula(
    id="combustion.element_carbon",
    expression="E_CO2 = FC × C_ar × OF × 44/12",
    reference="MEE 发电设施 guideline (2022 rev.): E_combustion = Σ FC_i × C_ar,i × OF_i × 44/12",
)
NON_CO2 = Formula(
    id="combustion.non_co2",
    expression="E_gas = FC × NCV × EF_gas",
    reference="IPCC 2006 Vol. 2 Ch. 2 eq. 2.1 (tier 1), EF from Table 2.2 / 2.3",
)


def co2_from_heat(
    fuel: ArrayLike,
    ncv: ArrayLike | float,
    carbon_per_heat: ArrayLike | float,
    oxidation: ArrayLike | float,
    co2_per_c: float,
) -> ArrayLike:
    """CO2 [t] = fuel × NCV × CC × OF × 44/12.

    Parameters
    ----------
    fuel : fuel consumed [t or 10^4 Nm3]
    ncv : net calorific value [GJ per unit of fuel]
    carbon_per_heat : carbon content per unit heat [tC/GJ]
    oxidation : oxidation rate [fraction]
    co2_per_c : CO2/C ratio [tCO2/tC] (the guidelines' 44/12, from chemistry.csv)

    >>> round(co2_from_heat(100.0, 42.652, 0.0202, 0.98, 44 / 12), 6)
    309.590964
    """
    return fuel * ncv * carbon_per_heat * oxidation * co2_per_c


def co2_from_carbon(
    fuel: ArrayLike,
    carbon_content: ArrayLike | float,
    oxidation: ArrayLike | float,
    co2_per_c: float,
) -> ArrayLike:
    """CO2 [t] = fuel × C_ar × OF × 44/12, with C_ar [tC per unit of fuel]."""
    return fuel * carbon_content * oxidation * co2_per_c


def as_received_from_air_dried(
    carbon_ad: ArrayLike, moisture_ar_pct: ArrayLike | float, moisture_ad_pct: ArrayLike | float
) -> ArrayLike:
    """C_ar = C_ad × (100 − M_ar)/(100 − M_ad) (GB/T 483 basis conversion).

    ``carbon_ad`` in any unit (fraction, %, tC/t); moistures M_ar, M_ad in [%].
    """
    return carbon_ad * (100.0 - moisture_ar_pct) / (100.0 - moisture_ad_pct)


def as_received_from_dry(carbon_d: ArrayLike, moisture_ar_pct: ArrayLike | float) -> ArrayLike:
    """C_ar = C_d × (100 − M_ar)/100 (GB/T 483 basis conversion); M_ar in [%]."""
    return carbon_d * (100.0 - moisture_ar_pct) / 100.0


def as_received_carbon(
    carbon_ad: Parameter, moisture_ar: Parameter, moisture_ad: Parameter
) -> Parameter:
    """The as-received carbon content from an air-dried analysis, as a derived parameter.

    ``moisture_ar`` and ``moisture_ad`` are percentages (unit ``%`` or a fraction).
    """
    for p in (carbon_ad, moisture_ar, moisture_ad):
        require_non_negative(p)
    m_ar = moisture_ar.to("percent")
    m_ad = moisture_ad.to("percent")
    if m_ad >= 100.0 or m_ar >= 100.0:
        raise InputError("moisture must be below 100 %", field=moisture_ad.label)
    value = as_received_from_air_dried(carbon_ad.value, m_ar, m_ad)
    return Parameter(
        name="carbon_content_ar",
        value=value,
        unit=carbon_ad.unit,
        origin=carbon_ad.origin,
        source=(
            f"C_ar = C_ad × (100 − M_ar)/(100 − M_ad) (GB/T 483) from {carbon_ad.source}; "
            f"M_ar {m_ar} %, M_ad {m_ad} %"
        ),
        field=carbon_ad.field,
    )


def combustion(
    *,
    fuel: str,
    amount: Parameter,
    oxidation: Parameter,
    co2_per_c: Parameter,
    gwp: GwpLike,
    ncv: Parameter | None = None,
    carbon_per_heat: Parameter | None = None,
    carbon_content: Parameter | None = None,
    ch4_factor: Parameter | None = None,
    n2o_factor: Parameter | None = None,
) -> EmissionResult:
    """Emissions of burning ``amount`` of ``fuel``.

    Give either ``carbon_content`` (as-received, tC per unit of fuel — the
    element-carbon variant) or both ``ncv`` and ``carbon_per_heat`` (the heat-based
    variant). ``ch4_factor`` / ``n2o_factor`` [kg/TJ] add CH4/N2O and need ``ncv``.

    Parameters
    ----------
    amount : fuel consumed [t or 10^4 Nm3 — any mass or normal volume]
    oxidation : oxidation rate [fraction]
    co2_per_c : CO2/C [tCO2/tC]
    ncv : net calorific value [GJ per unit of ``amount``]
    carbon_per_heat : [tC/GJ]
    carbon_content : C_ar [tC per unit of ``amount``]

    Raises
    ------
    InputError
        negative amount or parameter, oxidation outside [0, 1].
    MissingParameter
        neither carbon_content nor ncv + carbon_per_heat; CH4/N2O without ncv.
    UnitError
        a parameter's unit does not fit the amount's.
    """
    require_non_negative(amount)
    require_fraction(oxidation)
    ratio = co2_per_c.to("tCO2/tC")
    inputs: list[Parameter] = [amount]
    factors: list[Parameter] = [oxidation, co2_per_c]
    energy_gj: float | None = None
    if ncv is not None:
        require_non_negative(ncv)
        energy_gj = amount.value * ncv.value * product_factor(amount, ncv, "GJ")
    if carbon_content is not None:
        require_non_negative(carbon_content)
        to_tc = product_factor(amount, carbon_content, "tC")
        carbon_t = amount.value * carbon_content.value * to_tc
        co2_t = co2_from_carbon(carbon_t, 1.0, oxidation.to("dimensionless"), ratio)
        formula = ELEMENT_CARBON
        factors.insert(0, carbon_content)
        if ncv is not None:
            factors.insert(0, ncv)
    elif ncv is not None and carbon_per_heat is not None and energy_gj is not None:
        require_non_negative(carbon_per_heat)
        cc = carbon_per_heat.to("tC/GJ")
        co2_t = co2_from_heat(energy_gj, 1.0, cc, oxidation.to("dimensionless"), ratio)
        formula = HEAT_BASED
        factors[:0] = [ncv, carbon_per_heat]
    else:
        missing = "ncv" if ncv is None else "carbon_per_heat"
        raise MissingParameter(
            f"combustion of {fuel} needs carbon_content, or ncv and carbon_per_heat "
            f"({missing} is missing)",
            field=sibling_field(amount, missing),
        )
    gases = {"CO2": co2_t}
    notes: list[str] = []
    for gas, ef in (("CH4", ch4_factor), ("N2O", n2o_factor)):
        if ef is None:
            continue
        if energy_gj is None:
            raise MissingParameter(
                f"{gas} from combustion needs the fuel's ncv", field=sibling_field(amount, "ncv")
            )
        require_non_negative(ef)
        gases[gas] = energy_gj * ef.to("kg/GJ") * units.factor("kg", "t")
        factors.append(ef)
        notes.append(f"{gas}: {NON_CO2.expression} ({NON_CO2.reference})")
    details = {"fuel_energy_gj": energy_gj} if energy_gj is not None else {}
    return emission_result(
        "combustion",
        gases,
        gwp=gwp,
        formula=formula,
        inputs=inputs,
        factors=factors,
        notes=notes,
        details=details,
    )


__all__ = [
    "ELEMENT_CARBON",
    "HEAT_BASED",
    "NON_CO2",
    "as_received_carbon",
    "as_received_from_air_dried",
    "as_received_from_dry",
    "co2_from_carbon",
    "co2_from_heat",
    "combustion",
]
