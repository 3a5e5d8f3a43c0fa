"""Carbon mass balance over carbon-bearing inputs, products and wastes.

``E = {Σ_r AD_r × CC_r − [Σ_p AD_p × CC_p + Σ_w AD_w × CC_w]} × 44/12``
(中国化工生产企业温室气体排放核算方法与报告指南（试行） 2013; the same balance underlies
the steel guideline's sequestration term). Carbon content CC is a mass fraction
[tC/t] — or, for gases, tC per unit of the stream's amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tansuan.domain import units
from tansuan.domain.result import (
    EmissionResult,
    Formula,
    GwpLike,
    Parameter,
    emission_result,
    product_factor,
    require_non_negative,
)
from tansuan.errors import InputError

MASS_BALANCE = Formula(
    id="mass_balance.carbon",
    expression="E_CO2 = (Σ_in AD × CC − Σ_out AD × CC) × 44/12",
    reference="中国化工生产企业温室气体排放核算方法与报告指南（试行） 2013: carbon mass balance "
    "of raw materials, products and wastes",
)


@dataclass(frozen=True)
class Stream:
    """A carbon-bearing stream: its amount and carbon content.

    ``amount`` [t, or 10^4 Nm3 for gases]; ``carbon_content`` [tC per unit of amount,
    or a dimensionless mass fraction for amounts in mass units].
    """

    amount: Parameter
    carbon_content: Parameter

    def carbon_t(self) -> float:
        """Carbon carried [tC]."""
        require_non_negative(self.amount)
        require_non_negative(self.carbon_content)
        if units.same_dimension(self.carbon_content.unit, "dimensionless"):
            return self.amount.to("t") * self.carbon_content.to("dimensionless")
        return (
            self.amount.value
            * self.carbon_content.value
            * product_factor(self.amount, self.carbon_content, "tC")
        )


def carbon_balance(
    *,
    inputs: Sequence[Stream],
    outputs: Sequence[Stream],
    co2_per_c: Parameter,
    gwp: GwpLike,
) -> EmissionResult:
    """CO2 [t] = (carbon in − carbon out) × 44/12.

    ``outputs`` are products and wastes together. The trace keeps every stream.

    Raises
    ------
    InputError
        more carbon leaves than enters — a data error, since the balance cannot
        produce negative emissions.
    """
    carbon_in = sum((s.carbon_t() for s in inputs), 0.0)
    carbon_out = sum((s.carbon_t() for s in outputs), 0.0)
    net = carbon_in - carbon_out
    if net < 0:
        raise InputError(
            f"carbon out ({carbon_out} tC) exceeds carbon in ({carbon_in} tC); "
            "check the streams' amounts and carbon contents",
            field=outputs[-1].amount.label if outputs else None,
        )
    co2_t = net * co2_per_c.to("tCO2/tC")
    params = [p for s in (*inputs, *outputs) for p in (s.amount, s.carbon_content)]
    return emission_result(
        "mass_balance",
        {"CO2": co2_t},
        gwp=gwp,
        formula=MASS_BALANCE,
        inputs=params,
        factors=[co2_per_c],
        details={"carbon_in_t": carbon_in, "carbon_out_t": carbon_out},
    )
