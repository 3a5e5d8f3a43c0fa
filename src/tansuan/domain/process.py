"""Process emissions from carbonate decomposition.

* Factor method (steel guideline fluxes, carbon-bearing inputs):
  ``E = AD × EF`` [t × tCO2/t] — limestone 0.440, dolomite 0.471 (process.csv).
* Flue-gas desulphurisation sorbents (2013 power guideline):
  ``E = B × I × EF × TR`` — sorbent consumed, carbonate fraction, factor, conversion rate.
* Clinker, oxide method (cement guideline):
  ``E = Q × [(FR_CaO − FR_CaO,nc) × 44/56 + (FR_MgO − FR_MgO,nc) × 44/40]`` — clinker
  (plus kiln and bypass dust) output and the measured CaO / MgO fractions, minus those
  entering as non-carbonate.
"""

from __future__ import annotations

from tansuan.domain.result import (
    EmissionResult,
    Formula,
    GwpLike,
    Parameter,
    emission_result,
    require_fraction,
    require_non_negative,
)
from tansuan.errors import InputError

CARBONATE = Formula(
    id="process.carbonate_factor",
    expression="E_CO2 = AD × EF",
    reference="中国钢铁生产企业温室气体排放核算方法与报告指南（试行） 2013: process emissions of "
    "fluxes and carbon-bearing materials, E = Σ AD_i × EF_i",
)
FGD = Formula(
    id="process.fgd_sorbent",
    expression="E_CO2 = B × I × EF × TR",
    reference="中国发电企业温室气体排放核算方法与报告指南（试行） 2013: desulphurisation, "
    "E = Σ_k B_k × I_k × EF_k × TR",
)
CLINKER = Formula(
    id="process.clinker_oxide",
    expression="E_CO2 = Q × [(FR_CaO − FR_CaO,nc) × 44/56 + (FR_MgO − FR_MgO,nc) × 44/40]",
    reference="中国水泥生产企业温室气体排放核算方法与报告指南（试行） 2013: carbonate "
    "decomposition based on clinker",
)


def carbonate(*, material: Parameter, factor: Parameter, gwp: GwpLike) -> EmissionResult:
    """CO2 of a carbonate or carbon-bearing input by its emission factor.

    Parameters
    ----------
    material : material consumed [t]
    factor : emission factor [tCO2/t]
    """
    require_non_negative(material)
    require_non_negative(factor)
    co2_t = material.to("t") * factor.to("tCO2/t")
    return emission_result(
        "process",
        {"CO2": co2_t},
        gwp=gwp,
        formula=CARBONATE,
        inputs=[material],
        factors=[factor],
    )


def fgd_sorbent(
    *,
    sorbent: Parameter,
    carbonate_fraction: Parameter,
    factor: Parameter,
    conversion: Parameter,
    gwp: GwpLike,
) -> EmissionResult:
    """CO2 of a desulphurisation sorbent: B [t] × I [fraction] × EF [tCO2/t] × TR [fraction]."""
    require_non_negative(sorbent)
    require_non_negative(factor)
    require_fraction(carbonate_fraction)
    require_fraction(conversion)
    co2_t = (
        sorbent.to("t")
        * carbonate_fraction.to("dimensionless")
        * factor.to("tCO2/t")
        * conversion.to("dimensionless")
    )
    return emission_result(
        "process_fgd",
        {"CO2": co2_t},
        gwp=gwp,
        formula=FGD,
        inputs=[sorbent],
        factors=[carbonate_fraction, factor, conversion],
    )


def clinker(
    *,
    clinker: Parameter,
    cao: Parameter,
    mgo: Parameter,
    co2_per_cao: Parameter,
    co2_per_mgo: Parameter,
    gwp: GwpLike,
    cao_non_carbonate: Parameter | None = None,
    mgo_non_carbonate: Parameter | None = None,
) -> EmissionResult:
    """CO2 from carbonates decomposed into clinker (oxide method).

    Parameters
    ----------
    clinker : clinker output, plus kiln and bypass dust [t]
    cao, mgo : CaO and MgO mass fractions of the clinker [fraction]
    cao_non_carbonate, mgo_non_carbonate : fractions that entered as non-carbonate
        (e.g. slag, fly ash) [fraction]; zero when not given (recorded in the notes)
    co2_per_cao, co2_per_mgo : 44/56 and 44/40 [tCO2/t] (chemistry.csv)

    Raises
    ------
    InputError
        a non-carbonate fraction larger than the oxide fraction.
    """
    require_non_negative(clinker)
    notes: list[str] = []
    terms = 0.0
    inputs = [clinker]
    for oxide, nc, ratio, label in (
        (cao, cao_non_carbonate, co2_per_cao, "CaO"),
        (mgo, mgo_non_carbonate, co2_per_mgo, "MgO"),
    ):
        require_fraction(oxide)
        inputs.append(oxide)
        nc_value = 0.0
        if nc is None:
            notes.append(f"no non-carbonate {label} given: taken as 0")
        else:
            require_fraction(nc)
            inputs.append(nc)
            nc_value = nc.to("dimensionless")
        net = oxide.to("dimensionless") - nc_value
        if net < 0:
            raise InputError(
                f"non-carbonate {label} exceeds the clinker's {label} fraction",
                field=nc.label if nc is not None else oxide.label,
            )
        terms += net * ratio.to("tCO2/t")
    co2_t = clinker.to("t") * terms
    return emission_result(
        "process_clinker",
        {"CO2": co2_t},
        gwp=gwp,
        formula=CLINKER,
        inputs=inputs,
        factors=[co2_per_cao, co2_per_mgo],
        notes=notes,
    )
