"""Comprehensive energy consumption in standard coal (GB/T 2589-2020) and intensity.

``E = Σ_i e_i × p_i − Σ_j e_j × p_j`` — each energy carrier consumed (e_i, in its
physical unit) times its standard-coal coefficient (p_i, kgce per unit), less energy
exported to others; ``intensity = E / output``. Coefficients are the tabulated values
of GB/T 2589-2020 Appendix A (``data/energy_coefficients.csv``), or — when the NCV of
the carrier is measured — ``p = NCV / 29 307.6 kJ/kgce``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tansuan.domain.result import (
    Formula,
    Origin,
    Parameter,
    Trace,
    product_factor,
    require_non_negative,
)
from tansuan.errors import InputError

COMPREHENSIVE = Formula(
    id="energy.comprehensive_tce",
    expression="E = Σ_i e_i × p_i − Σ_j e_j × p_j; intensity = E / output",
    reference="GB/T 2589-2020 综合能耗计算通则 (comprehensive energy consumption; "
    "coefficients from Appendix A)",
)


@dataclass(frozen=True)
class EnergyUse:
    """One energy carrier: amount [its physical unit] and coefficient [kgce per that unit]."""

    carrier: str
    amount: Parameter
    coefficient: Parameter

    def tce(self) -> float:
        """Standard coal [tce] of this use."""
        require_non_negative(self.amount)
        require_non_negative(self.coefficient)
        return (
            self.amount.value
            * self.coefficient.value
            * product_factor(self.amount, self.coefficient, "tce")
        )


@dataclass(frozen=True)
class EnergyResult:
    """Comprehensive energy consumption [tce], per carrier, and intensity per unit of output."""

    energy_tce: float
    by_carrier_tce: Mapping[str, float]
    trace: Trace
    output: Parameter | None = None
    intensity: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_carrier_tce", MappingProxyType(dict(self.by_carrier_tce)))

    @property
    def intensity_unit(self) -> str | None:
        """``tce/<output unit>`` when an output was given."""
        return f"tce/{self.output.unit}" if self.output is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "energy_tce": self.energy_tce,
            "by_carrier_tce": dict(self.by_carrier_tce),
            "intensity": self.intensity,
            "intensity_unit": self.intensity_unit,
            "trace": self.trace.as_dict(),
        }


def coefficient_from_ncv(ncv: Parameter, kgce_heat: Parameter) -> Parameter:
    """A carrier's coefficient from its measured NCV: p = NCV / (29 307.6 kJ/kgce).

    ``ncv`` in energy per unit of the carrier (GJ/t, kJ/kg, GJ/10^4 Nm3 …); the result is
    in kgce per the same unit.
    """
    require_non_negative(ncv)
    per_unit = ncv.unit.split("/", 1)[1] if "/" in ncv.unit else ""
    if not per_unit:
        raise InputError("the NCV must be an energy per unit of fuel", field=ncv.label)
    value = ncv.to(f"kJ/({per_unit})") / kgce_heat.to("kJ/kgce")
    return Parameter(
        name="tce_coefficient",
        value=value,
        unit=f"kgce/({per_unit})",
        origin=Origin.DERIVED,
        source=f"NCV {ncv.value} {ncv.unit} ({ncv.source}) / {kgce_heat.value} "
        f"{kgce_heat.unit} ({kgce_heat.factor_id})",
        field=ncv.field,
    )


def comprehensive_energy(
    *,
    uses: Sequence[EnergyUse],
    exported: Sequence[EnergyUse] = (),
    output: Parameter | None = None,
) -> EnergyResult:
    """Comprehensive energy consumption [tce] and, with ``output``, intensity [tce per unit].

    Raises
    ------
    InputError
        more energy exported than consumed, or an output of zero.
    """
    by_carrier: dict[str, float] = {}
    for use in uses:
        by_carrier[use.carrier] = by_carrier.get(use.carrier, 0.0) + use.tce()
    for use in exported:
        by_carrier[use.carrier] = by_carrier.get(use.carrier, 0.0) - use.tce()
    total = sum(by_carrier.values(), 0.0)
    if total < 0:
        raise InputError(
            "more energy exported than consumed",
            field=exported[-1].amount.label if exported else None,
        )
    intensity: float | None = None
    if output is not None:
        require_non_negative(output)
        if output.value == 0:
            raise InputError("output must be positive to compute an intensity", field=output.label)
        intensity = total / output.value
    inputs = [u.amount for u in (*uses, *exported)]
    if output is not None:
        inputs.append(output)
    trace = Trace(
        formula=COMPREHENSIVE,
        inputs=tuple(inputs),
        factors=tuple(u.coefficient for u in (*uses, *exported)),
        notes=tuple(f"exported: {u.carrier}" for u in exported),
    )
    return EnergyResult(
        energy_tce=total,
        by_carrier_tce=by_carrier,
        trace=trace,
        output=output,
        intensity=intensity,
    )


__all__ = [
    "COMPREHENSIVE",
    "EnergyResult",
    "EnergyUse",
    "coefficient_from_ncv",
    "comprehensive_energy",
]
