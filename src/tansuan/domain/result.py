"""Value objects every accounting method returns: parameters, formulas, traces, results.

No bare float leaves the domain: a method returns an :class:`EmissionResult` with
tonnes per gas, CO2e, the GWP set, and a :class:`Trace` naming the formula (with its
reference), every input with its origin and every factor with its id and source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

from tansuan.domain import units
from tansuan.errors import InputError, UnitError


class Origin(StrEnum):
    """Where a number came from, in order of precedence for parameters.

    ``measured`` > ``supplier`` > ``default`` (docs/methods.md, "Precedence").
    ``input`` marks activity data as given; ``derived`` a number computed from others.
    """

    MEASURED = "measured"
    SUPPLIER = "supplier"
    DEFAULT = "default"
    INPUT = "input"
    DERIVED = "derived"


@dataclass(frozen=True)
class Parameter:
    """One number a formula uses, with its unit and provenance.

    Parameters
    ----------
    name : canonical name with unit (``fuel_t``, ``ncv_gj_per_t``, …; docs/glossary.md)
    value : the number, in ``unit``
    unit : unit text understood by :mod:`tansuan.domain.units`
    origin : measured / supplier / default / input / derived
    source : where it came from, for a reader (a table row's document, clause and
        edition, or the input field such as ``sources[0].ncv``)
    factor_id : the reference-table row id when ``origin`` is ``default``
    confidence : the row's tag ([V]/[S]/[M]) when ``origin`` is ``default``
    field : the input field it was read from, for error messages
    """

    name: str
    value: float
    unit: str
    origin: Origin
    source: str
    factor_id: str | None = None
    confidence: str | None = None
    field: str | None = None

    def to(self, unit: str) -> float:
        """The value converted to ``unit``; :class:`UnitError` naming the field if impossible."""
        if unit == self.unit:
            return self.value
        try:
            return self.value * units.factor(self.unit, unit)
        except UnitError as exc:
            raise UnitError(exc.message, field=self.label) from None

    @property
    def label(self) -> str:
        """The input field when known (``sources[2].amount``), else the name."""
        return self.field or self.name

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "origin": self.origin.value,
            "source": self.source,
        }
        if self.factor_id is not None:
            out["factor_id"] = self.factor_id
        if self.confidence is not None:
            out["confidence"] = self.confidence
        if self.field is not None:
            out["field"] = self.field
        return out


def given(
    name: str,
    value: float,
    unit: str,
    *,
    origin: Origin = Origin.INPUT,
    source: str | None = None,
    field: str | None = None,
) -> Parameter:
    """A parameter supplied by the caller (activity data, a measured or supplier value)."""
    return Parameter(
        name=name,
        value=float(value),
        unit=unit,
        origin=origin,
        source=source or (f"{origin.value}: {field}" if field else origin.value),
        field=field,
    )


def require_non_negative(parameter: Parameter) -> None:
    """Refuse a negative quantity, naming the parameter (and its input field)."""
    if parameter.value < 0:
        raise InputError(
            f"{parameter.name} must not be negative (got {parameter.value} {parameter.unit})",
            field=parameter.label,
        )


def require_fraction(parameter: Parameter) -> None:
    """Refuse a fraction outside [0, 1] (after converting ``%`` to a fraction)."""
    value = parameter.to("dimensionless")
    if not 0.0 <= value <= 1.0:
        raise InputError(
            f"{parameter.name} must be a fraction between 0 and 1 (got {parameter.value} "
            f"{parameter.unit})",
            field=parameter.label,
        )


def product_factor(amount: Parameter, per_amount: Parameter, target: str) -> float:
    """Number turning ``amount.value × per_amount.value`` into ``target``.

    E.g. an amount in 10^4 Nm3 and an NCV in GJ/10^4 Nm3 give 1.0 for ``GJ``. A product
    of the wrong dimension raises :class:`UnitError` naming ``per_amount``'s field.
    """
    try:
        return units.factor(f"({amount.unit})*({per_amount.unit})", target)
    except UnitError:
        raise UnitError(
            f"{per_amount.name} in {per_amount.unit} does not fit an amount in {amount.unit} "
            f"(their product must be in {target})",
            field=per_amount.label,
        ) from None


def sibling_field(parameter: Parameter, name: str) -> str:
    """``sources[0].amount`` → ``sources[0].ncv``: where a missing parameter belongs."""
    if parameter.field and "." in parameter.field:
        return f"{parameter.field.rsplit('.', 1)[0]}.{name}"
    return name


@dataclass(frozen=True)
class Formula:
    """A formula: a stable id, the expression as printed, and its reference."""

    id: str
    expression: str
    reference: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "expression": self.expression, "reference": self.reference}


@dataclass(frozen=True)
class Trace:
    """How a result was obtained: the formula, inputs, factors and any notes."""

    formula: Formula
    inputs: tuple[Parameter, ...]
    factors: tuple[Parameter, ...]
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula.as_dict(),
            "inputs": [p.as_dict() for p in self.inputs],
            "factors": [p.as_dict() for p in self.factors],
            "notes": list(self.notes),
        }


class GwpLike(Protocol):
    """What a result needs from a GWP set (see :class:`tansuan.domain.gases.GwpSet`)."""

    @property
    def name(self) -> str: ...

    def co2e(self, gases_t: Mapping[str, float]) -> tuple[float, tuple[Parameter, ...]]: ...

    def gwp(self, gas: str, *, field: str | None = None) -> Parameter: ...


@dataclass(frozen=True)
class EmissionResult:
    """Tonnes per gas and CO2e of one source, with the trace that produced them.

    Attributes
    ----------
    method : the method id (``combustion``, ``electricity_location``, …)
    gases_t : tonnes per gas [t], keyed by gas name (``CO2``, ``CH4``, ``SF6``, …)
    co2e_t : total [tCO2e] under ``gwp_set``
    gwp_set : the GWP set used (SAR, AR4, AR5, AR6)
    trace : formula, inputs, factors (GWPs included) and notes
    """

    method: str
    gases_t: Mapping[str, float]
    co2e_t: float
    gwp_set: str
    trace: Trace
    details: Mapping[str, float] = dc_field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gases_t", MappingProxyType(dict(self.gases_t)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "co2e_t": self.co2e_t,
            "gwp_set": self.gwp_set,
            "gases": dict(self.gases_t),
            "details": dict(self.details),
            "trace": self.trace.as_dict(),
        }


def emission_result(
    method: str,
    gases_t: Mapping[str, float],
    *,
    gwp: GwpLike,
    formula: Formula,
    inputs: Iterable[Parameter],
    factors: Iterable[Parameter],
    notes: Iterable[str] = (),
    details: Mapping[str, float] | None = None,
) -> EmissionResult:
    """Assemble a result: CO2e from ``gwp``, its GWP factors appended to the trace."""
    co2e_t, gwp_factors = gwp.co2e(gases_t)
    trace = Trace(
        formula=formula,
        inputs=tuple(inputs),
        factors=(*tuple(factors), *gwp_factors),
        notes=tuple(notes),
    )
    return EmissionResult(
        method=method,
        gases_t=gases_t,
        co2e_t=co2e_t,
        gwp_set=gwp.name,
        trace=trace,
        details=details or {},
    )
