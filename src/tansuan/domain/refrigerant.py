"""Refrigerant and SF6 losses by simplified mass balance.

``L = (I_start − I_end) + (P − S) + (C_retired − C_new)``
— decrease of the stored inventory, plus gas purchased minus gas sold or sent for
recovery, plus the full charge of retired equipment minus the full charge of new
equipment (GHG Protocol HFC/PFC tool, "simplified material balance"; US EPA Climate
Leaders, Direct HFC and PFC Emissions from Refrigeration and Air Conditioning, 2008).
A blend's loss is split into its components by mass fraction (refrigerants.csv);
each component is then weighted by its GWP.
"""

from __future__ import annotations

from collections.abc import Sequence

from tansuan.domain.catalog import Component
from tansuan.domain.gases import canonical_gas
from tansuan.domain.result import (
    EmissionResult,
    Formula,
    GwpLike,
    Parameter,
    emission_result,
    require_non_negative,
)
from tansuan.errors import InputError

SIMPLIFIED_MASS_BALANCE = Formula(
    id="refrigerant.simplified_mass_balance",
    expression="L = (I_start − I_end) + (P − S) + (C_retired − C_new); m_gas = L × x_gas",
    reference="GHG Protocol HFC/PFC calculation tool (simplified material balance); "
    "US EPA Climate Leaders, Direct HFC and PFC Emissions (2008), eq. (1)",
)


def loss_t(
    inventory_start: float,
    inventory_end: float,
    purchased: float,
    sold: float,
    retired_charge: float,
    new_charge: float,
) -> float:
    """L [t] = (I_start − I_end) + (P − S) + (C_retired − C_new); all terms in [t]."""
    return (inventory_start - inventory_end) + (purchased - sold) + (retired_charge - new_charge)


def refrigerant_loss(
    *,
    refrigerant: str,
    components: Sequence[Component],
    gwp: GwpLike,
    inventory_start: Parameter,
    inventory_end: Parameter,
    purchased: Parameter,
    sold: Parameter,
    retired_charge: Parameter,
    new_charge: Parameter,
) -> EmissionResult:
    """Emissions of a refrigerant (or SF6) lost from equipment in the period.

    All quantities are masses [t or kg]. ``components`` come from
    :meth:`FactorCatalog.refrigerant`.

    Raises
    ------
    InputError
        a negative term, or a negative loss (the balance does not close).
    """
    terms = (inventory_start, inventory_end, purchased, sold, retired_charge, new_charge)
    for term in terms:
        require_non_negative(term)
    loss = loss_t(*(term.to("t") for term in terms))
    if loss < -1e-12:
        raise InputError(
            f"the {refrigerant} balance gives a negative loss ({loss} t); check the "
            "inventory, purchases and equipment charges",
            field=inventory_end.label,
        )
    loss = max(loss, 0.0)
    gases: dict[str, float] = {}
    for component in components:
        gas = canonical_gas(component.gas)
        gases[gas] = gases.get(gas, 0.0) + loss * component.mass_fraction
    notes = [
        f"{refrigerant}: {c.gas} mass fraction {c.mass_fraction} — {c.source} {c.confidence}"
        for c in components
    ]
    return emission_result(
        "refrigerant",
        gases,
        gwp=gwp,
        formula=SIMPLIFIED_MASS_BALANCE,
        inputs=list(terms),
        factors=[],
        notes=notes,
        details={"loss_t": loss},
    )
