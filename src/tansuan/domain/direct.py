"""Directly known gas quantities (tonnes of CH4, N2O, SF6, …) to CO2e.

``E_CO2e = Σ_g m_g × GWP_g`` (GHG Protocol Corporate Standard ch. 4; GWP-100 of the
inventory's set).
"""

from __future__ import annotations

from collections.abc import Sequence

from tansuan.domain.gases import canonical_gas
from tansuan.domain.result import (
    EmissionResult,
    Formula,
    GwpLike,
    Parameter,
    emission_result,
    require_non_negative,
)

DIRECT = Formula(
    id="direct.gwp",
    expression="E_CO2e = Σ_g m_g × GWP_g",
    reference="GHG Protocol Corporate Standard (2004) ch. 4; IPCC GWP-100 of the chosen set",
)


def direct(*, gases: Sequence[tuple[str, Parameter]], gwp: GwpLike) -> EmissionResult:
    """CO2e of known gas masses; ``gases`` is (gas name, mass [t or any mass]) pairs."""
    tonnes: dict[str, float] = {}
    for name, mass in gases:
        require_non_negative(mass)
        gas = canonical_gas(name, field=mass.field)
        gwp.gwp(gas, field=mass.field)  # refuse a gas the set lacks, naming the field
        tonnes[gas] = tonnes.get(gas, 0.0) + mass.to("t")
    return emission_result(
        "direct",
        tonnes,
        gwp=gwp,
        formula=DIRECT,
        inputs=[mass for _, mass in gases],
        factors=[],
    )
