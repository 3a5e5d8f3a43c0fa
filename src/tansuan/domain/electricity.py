"""Purchased electricity and heat (scope 2): location-based and market-based.

* Location-based: ``E = AD × EF_grid`` (MEE 发电设施 guideline: E_electricity = AD_MWh × EF_grid;
  GHG Protocol Scope 2 Guidance ch. 6).
* Market-based: contractual instruments (green-power certificates 绿证, green-power
  contracts 绿电交易, supplier-specific contracts) cover part of the consumption at
  their own emission rate; the rest is multiplied by the residual factor
  ``E = Σ_i MWh_i × EF_i + (AD − Σ_i MWh_i) × EF_residual`` (GHG Protocol Scope 2
  Guidance ch. 6–7). Instruments may not exceed the consumption.
* Heat: ``E = AD_heat × EF_heat`` [GJ × tCO2/GJ] (2013 sector guidelines). No sourced
  default heat factor is shipped: the caller must supply one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tansuan.domain.result import (
    EmissionResult,
    Formula,
    GwpLike,
    Parameter,
    emission_result,
    require_non_negative,
)
from tansuan.errors import InputError

LOCATION = Formula(
    id="electricity.location",
    expression="E_CO2 = AD_MWh × EF_grid",
    reference="MEE 发电设施 guideline (2022 rev.): E_electricity = AD × EF_grid; "
    "GHG Protocol Scope 2 Guidance (2015) ch. 6 (location-based)",
)
MARKET = Formula(
    id="electricity.market",
    expression="E_CO2 = Σ_i MWh_i × EF_i + (AD_MWh − Σ_i MWh_i) × EF_residual",
    reference="GHG Protocol Scope 2 Guidance (2015) ch. 6–7 (market-based method, "
    "contractual instruments and residual mix)",
)
HEAT = Formula(
    id="heat.purchased",
    expression="E_CO2 = AD_GJ × EF_heat",
    reference="NDRC 2013 sector guidelines (purchased heat); GHG Protocol Scope 2 Guidance",
)


@dataclass(frozen=True)
class Instrument:
    """A contractual instrument for market-based scope 2.

    ``energy`` [MWh] covered, at emission rate ``factor`` [tCO2/MWh]
    (0 for a green certificate or green-power contract — from grid.csv).
    """

    kind: str
    energy: Parameter
    factor: Parameter


def location_based(*, electricity: Parameter, factor: Parameter, gwp: GwpLike) -> EmissionResult:
    """Location-based CO2 of purchased electricity.

    Parameters
    ----------
    electricity : electricity consumed [MWh or any energy unit]
    factor : grid emission factor [tCO2/MWh or kgCO2/kWh]
    """
    require_non_negative(electricity)
    require_non_negative(factor)
    co2_t = electricity.to("MWh") * factor.to("tCO2/MWh")
    return emission_result(
        "electricity_location",
        {"CO2": co2_t},
        gwp=gwp,
        formula=LOCATION,
        inputs=[electricity],
        factors=[factor],
        details={"electricity_mwh": electricity.to("MWh")},
    )


def market_based(
    *,
    electricity: Parameter,
    instruments: Sequence[Instrument],
    residual_factor: Parameter,
    gwp: GwpLike,
    notes: Sequence[str] = (),
) -> EmissionResult:
    """Market-based CO2 of purchased electricity.

    Parameters
    ----------
    electricity : electricity consumed [MWh or any energy unit]
    instruments : certificates / contracts, each with its MWh and emission rate
    residual_factor : factor for the uncovered consumption [tCO2/MWh]

    Raises
    ------
    InputError
        instruments cover more than the consumption (names the last instrument's field).
    """
    require_non_negative(electricity)
    require_non_negative(residual_factor)
    total_mwh = electricity.to("MWh")
    covered_mwh = 0.0
    co2_t = 0.0
    inputs = [electricity]
    factors: list[Parameter] = []
    for instrument in instruments:
        require_non_negative(instrument.energy)
        require_non_negative(instrument.factor)
        mwh = instrument.energy.to("MWh")
        covered_mwh += mwh
        co2_t += mwh * instrument.factor.to("tCO2/MWh")
        inputs.append(instrument.energy)
        factors.append(instrument.factor)
        if covered_mwh > total_mwh * (1 + 1e-12):
            raise InputError(
                f"contractual instruments cover {covered_mwh} MWh, more than the "
                f"{total_mwh} MWh consumed",
                field=instrument.energy.label,
            )
    residual_mwh = total_mwh - covered_mwh
    co2_t += residual_mwh * residual_factor.to("tCO2/MWh")
    factors.append(residual_factor)
    return emission_result(
        "electricity_market",
        {"CO2": co2_t},
        gwp=gwp,
        formula=MARKET,
        inputs=inputs,
        factors=factors,
        notes=notes,
        details={
            "electricity_mwh": total_mwh,
            "covered_mwh": covered_mwh,
            "residual_mwh": residual_mwh,
        },
    )


def heat(*, heat: Parameter, factor: Parameter, gwp: GwpLike) -> EmissionResult:
    """CO2 of purchased heat: heat [GJ] × factor [tCO2/GJ]."""
    require_non_negative(heat)
    require_non_negative(factor)
    co2_t = heat.to("GJ") * factor.to("tCO2/GJ")
    return emission_result(
        "heat",
        {"CO2": co2_t},
        gwp=gwp,
        formula=HEAT,
        inputs=[heat],
        factors=[factor],
        details={"heat_gj": heat.to("GJ")},
    )
