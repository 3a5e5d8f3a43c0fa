"""Fuel combustion: CO2 from fuel consumed, its carbon content and oxidation rate.

Two variants, as in the MEE power-sector guideline (企业温室气体排放核算与报告指南 发电设施,
2022 revision) and the 2013 sector guidelines:

* heat-based: ``E = FC × NCV × CC × OF × 44/12`` — carbon per unit heat (CC, tC/GJ)
  times the net calorific value (NCV, GJ per unit of fuel);
* element-carbon: ``E = FC × C_ar × OF × 44/12`` — measured as-received carbon
  content (C_ar, tC per unit of fuel), with the basis conversion of coal analysis
  (GB/T 483): ``C_ar = C_ad × (100 − M_ar)/(100 − M_ad)`` and ``C_ar = C_d × (100 − M_ar)/100``.

and, when the emission factor is given per unit of energy:

* energy-factor: ``E_CO2 = AD × EF_CO2 × OF`` with ``AD = FC × NCV`` or the fuel's energy
  as metered (GJ, TJ, MWh, therm, MMBtu) — IPCC 2006 Vol. 2 eq. 2.1 (EF in tCO2/TJ,
  complete oxidation), EU MRR (Implementing Reg. (EU) 2018/2066) Art. 24(1)
  ``Em = AD × EF × OF`` with AD in TJ, the form CBAM takes over.

A fuel amount given as energy replaces ``FC × NCV`` in every variant that needs heat
(heat-based, energy-factor, CH4/N2O). A liquid fuel metered by volume becomes a mass
by its density, ``FC = V × ρ`` (:func:`fuel_mass`), before the usual NCV path.

CH4 and N2O are optional (IPCC 2006 Vol. 2 eq. 2.1, tier 1):
``E_gas = FC × NCV × EF_gas`` with EF in kg/TJ; a plant-specific factor replaces the
table default, and the trace's notes say so.

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
    Origin,
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
ENERGY_FACTOR = Formula(
    id="combustion.energy_factor",
    expression="E_CO2 = AD × EF_CO2 × OF, AD = FC × NCV or the fuel energy",
    reference="IPCC 2006 Vol. 2 Ch. 2 eq. 2.1 (EF per TJ, OF = 1 in the EF); EU MRR "
    "(Implementing Reg. (EU) 2018/2066) Art. 24(1): Em = AD × EF × OF, AD in TJ; CBAM",
)
VOLUME_TO_MASS = Formula(
    id="combustion.volume_to_mass",
    expression="FC = V × ρ",
    reference="mass = volume × density (ISO 80000-4, density ρ = m/V); the guidelines' "
    "default NCVs of liquid fuels are per tonne (NDRC 2013 附录二 表2.1)",
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


def co2_from_energy(
    energy: ArrayLike, co2_per_energy: ArrayLike | float, oxidation: ArrayLike | float
) -> ArrayLike:
    """CO2 [t] = AD × EF_CO2 × OF (IPCC 2006 Vol. 2 eq. 2.1; EU MRR Art. 24(1)).

    Parameters
    ----------
    energy : activity data, the fuel's energy [GJ]
    co2_per_energy : CO2 emission factor [tCO2/GJ]
    oxidation : oxidation factor [fraction] (1 for IPCC 2006 default factors)

    >>> round(co2_from_energy(1000.0, 0.0561, 1.0), 6)
    56.1
    """
    return energy * co2_per_energy * oxidation


def fuel_mass(volume: Parameter, density: Parameter) -> Parameter:
    """The mass of a liquid fuel metered by volume: ``FC = V × ρ`` [t], a derived amount.

    Parameters
    ----------
    volume : fuel volume [m3, L or any volume]
    density : fuel density [t/m3, kg/L or any mass per volume]

    Raises
    ------
    InputError
        a negative volume or density.
    UnitError
        units that do not multiply to a mass.
    """
    require_non_negative(volume)
    require_non_negative(density)
    mass_t = volume.value * density.value * product_factor(volume, density, "t")
    return Parameter(
        name=volume.name,
        value=mass_t,
        unit="t",
        origin=volume.origin,
        source=(
            f"{VOLUME_TO_MASS.expression} ({VOLUME_TO_MASS.reference}): "
            f"{volume.value} {volume.unit} × {density.value} {density.unit}"
        ),
        field=volume.field,
    )


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
    co2_factor: Parameter | None = None,
    ch4_factor: Parameter | None = None,
    n2o_factor: Parameter | None = None,
) -> EmissionResult:
    """Emissions of burning ``amount`` of ``fuel``.

    Give ``co2_factor`` (CO2 per unit of energy — the energy-factor variant), or
    ``carbon_content`` (as-received, tC per unit of fuel — the element-carbon variant),
    or ``carbon_per_heat`` (the heat-based variant). The variants per energy need the
    fuel's energy: ``amount`` given as energy, or ``ncv``. ``ch4_factor`` /
    ``n2o_factor`` [kg/TJ] add CH4/N2O and need the energy too.

    Parameters
    ----------
    amount : fuel consumed [t or 10^4 Nm3 — any mass or normal volume], or its energy
        [GJ, TJ, MWh, therm, MMBtu — any energy unit]
    oxidation : oxidation rate [fraction]
    co2_per_c : CO2/C [tCO2/tC]
    ncv : net calorific value [GJ per unit of ``amount``]; not with an energy amount
    carbon_per_heat : [tC/GJ]
    carbon_content : C_ar [tC per unit of ``amount``]; not with an energy amount
    co2_factor : EF_CO2 [tCO2/TJ or any CO2 mass per energy]
    ch4_factor, n2o_factor : EF_gas [kg/TJ or any mass per energy]

    Raises
    ------
    InputError
        negative amount or parameter, oxidation outside [0, 1], ncv or carbon_content
        with an amount given as energy.
    MissingParameter
        no variant's parameters; a factor per energy without the fuel's energy.
    UnitError
        a parameter's unit does not fit the amount's.
    """
    require_non_negative(amount)
    require_fraction(oxidation)
    ratio = co2_per_c.to("tCO2/tC")
    inputs: list[Parameter] = [amount]
    factors: list[Parameter] = [oxidation, co2_per_c]
    energy_gj: float | None = None
    as_energy = units.same_dimension(amount.unit, "GJ")
    if as_energy:
        for per_fuel, name in ((ncv, "ncv"), (carbon_content, "carbon_content")):
            if per_fuel is not None:
                raise InputError(
                    f"{name} is per unit of fuel, but the amount of {fuel} is given as energy "
                    f"({amount.value} {amount.unit}); leave {name} out",
                    field=per_fuel.field or sibling_field(amount, name),
                )
        energy_gj = amount.to("GJ")
    elif ncv is not None:
        require_non_negative(ncv)
        energy_gj = amount.value * ncv.value * product_factor(amount, ncv, "GJ")
    if co2_factor is not None and carbon_content is not None:
        raise InputError(
            f"give one of co2_factor (per energy) and carbon_content (per fuel) for {fuel}",
            field=co2_factor.field or sibling_field(amount, "co2_factor"),
        )
    if co2_factor is not None:
        if energy_gj is None:
            raise MissingParameter(
                f"co2_factor of {fuel} is per unit of energy: give the fuel's ncv, or the "
                "amount as energy (GJ, TJ, MWh, therm, MMBtu)",
                field=sibling_field(amount, "ncv"),
            )
        require_non_negative(co2_factor)
        co2_per_gj = co2_factor.to("tCO2/GJ")
        co2_t = co2_from_energy(energy_gj, co2_per_gj, oxidation.to("dimensionless"))
        formula = ENERGY_FACTOR
        factors[:0] = [co2_factor] if ncv is None else [ncv, co2_factor]
        factors.remove(co2_per_c)  # no carbon step in this variant
    elif carbon_content is not None:
        require_non_negative(carbon_content)
        to_tc = product_factor(amount, carbon_content, "tC")
        carbon_t = amount.value * carbon_content.value * to_tc
        co2_t = co2_from_carbon(carbon_t, 1.0, oxidation.to("dimensionless"), ratio)
        formula = ELEMENT_CARBON
        factors.insert(0, carbon_content)
        if ncv is not None:
            factors.insert(0, ncv)
    elif carbon_per_heat is not None and energy_gj is not None:
        require_non_negative(carbon_per_heat)
        cc = carbon_per_heat.to("tC/GJ")
        co2_t = co2_from_heat(energy_gj, 1.0, cc, oxidation.to("dimensionless"), ratio)
        formula = HEAT_BASED
        factors[:0] = [carbon_per_heat] if ncv is None else [ncv, carbon_per_heat]
    else:
        missing = "ncv" if energy_gj is None else "carbon_per_heat"
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
                f"{gas} from combustion needs the fuel's ncv, or the amount as energy",
                field=sibling_field(amount, "ncv"),
            )
        require_non_negative(ef)
        gases[gas] = energy_gj * ef.to("kg/GJ") * units.factor("kg", "t")
        factors.append(ef)
        notes.append(f"{gas}: {NON_CO2.expression} ({NON_CO2.reference})")
        if ef.origin in (Origin.MEASURED, Origin.SUPPLIER):
            notes.append(
                f"{gas}: plant-specific factor {ef.value:g} {ef.unit} ({ef.origin.value}) "
                "replaces the table default"
            )
    if as_energy:
        converted = "" if units.canonical(amount.unit) == "GJ" else f" = {energy_gj:g} GJ"
        notes.append(
            f"fuel given as energy: AD = {amount.value:g} {amount.unit}{converted} "
            "replaces FC × NCV"
        )
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
    "ENERGY_FACTOR",
    "HEAT_BASED",
    "NON_CO2",
    "VOLUME_TO_MASS",
    "as_received_carbon",
    "as_received_from_air_dried",
    "as_received_from_dry",
    "co2_from_carbon",
    "co2_from_energy",
    "co2_from_heat",
    "combustion",
    "fuel_mass",
]
