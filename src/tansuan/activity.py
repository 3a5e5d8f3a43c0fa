"""Reading activity data: field paths, units, and parameters by precedence.

The reading layer of ``tansuan calc`` (:mod:`tansuan.calculate`): every quantity of a
source is converted once through :mod:`tansuan.domain.units` with the path of its field
(``sources[2].amount``) in any error; every parameter is resolved by precedence —
measured > supplier > the catalog default — through
:meth:`tansuan.domain.catalog.FactorCatalog.resolve`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from tansuan.domain import energy, mass_balance, units
from tansuan.domain.catalog import FactorCatalog
from tansuan.domain.gases import GwpSet
from tansuan.domain.result import Origin, Parameter, given
from tansuan.errors import InputError, MissingParameter, UnknownFactor

Doc = Mapping[str, Any]


class Context:
    """What every source needs: catalog, GWP set, date and region, and field paths."""

    def __init__(self, catalog: FactorCatalog, gwp: GwpSet, doc: Doc) -> None:
        self.catalog = catalog
        self.gwp = gwp
        year = doc.get("year")
        if year is not None and not isinstance(year, int):
            raise InputError(f"year must be an integer, got {year!r}", field="year")
        self.year: int | None = year
        self.on: date | None = date(year, 1, 1) if year is not None else None
        on = doc.get("on")
        if on is not None:  # a reference date inside the year (accounting runs: the month)
            try:
                self.on = on if isinstance(on, date) else date.fromisoformat(str(on))
            except ValueError:
                raise InputError(
                    f"on must be a date (YYYY-MM-DD), got {on!r}", field="on"
                ) from None
        region = doc.get("region")
        self.region: str | None = str(region) if region is not None else None
        self.grid_series: str | None = doc.get("grid_series")

    def co2_per_c(self) -> Parameter:
        return self.catalog.constant("ratio", "co2_per_c", unit="tCO2/tC")


class SourceReader:
    """One source mapping with its field path; reads quantities with clear errors."""

    def __init__(self, raw: Any, index: int, allowed: Iterable[str]) -> None:
        self.path = f"sources[{index}]"
        if not isinstance(raw, Mapping):
            raise InputError("each source must be a mapping", field=self.path)
        self.raw: Doc = raw
        extra = sorted(set(raw) - {"id", "method", *allowed})
        if extra:
            raise InputError(
                f"unknown key(s) {', '.join(extra)} for method {raw.get('method')}",
                field=f"{self.path}.{extra[0]}",
            )

    def field(self, key: str) -> str:
        return f"{self.path}.{key}"

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if value is None or not str(value).strip():
            raise MissingParameter(f"{key} is required", field=self.field(key))
        return str(value).strip()

    def quantity(
        self, key: str, unit: str, *, name: str | None = None, raw: Any = None, path: str = ""
    ) -> Parameter:
        """A required quantity converted to ``unit`` (activity data, origin ``input``)."""
        value = self.raw.get(key) if raw is None else raw
        where = path or self.field(key)
        if value is None:
            raise MissingParameter(f"{key} is required", field=where)
        return given(name or key, units.magnitude(value, unit, field=where), unit, field=where)

    def given_value(self, key: str, unit: str) -> tuple[float | None, float | None]:
        """(measured, supplier) for a parameter written in the file, converted to ``unit``."""
        value = self.raw.get(key)
        if value is None:
            return None, None
        origin = "measured"
        if isinstance(value, Mapping):
            origin = str(value.get("origin", "measured"))
            if origin not in ("measured", "supplier"):
                raise InputError(
                    f"origin must be measured or supplier, got {origin!r}",
                    field=f"{self.field(key)}.origin",
                )
            value = value.get("value")
            if value is None:
                raise MissingParameter("value is required", field=f"{self.field(key)}.value")
        number = units.magnitude(value, unit, field=self.field(key))
        return (number, None) if origin == "measured" else (None, number)


def parameter(
    ctx: Context,
    src: SourceReader,
    key: str,
    *,
    name: str,
    kind: str,
    catalog_key: str,
    unit: str,
    series: str | None = None,
) -> Parameter:
    measured, supplier = src.given_value(key, unit)
    return ctx.catalog.resolve(
        name,
        kind,
        catalog_key,
        unit=unit,
        measured=measured,
        supplier=supplier,
        on=ctx.on,
        region=src.raw.get("region") or ctx.region,
        series=series,
        field=src.field(key),
    )


def streams(src: SourceReader, key: str) -> list[mass_balance.Stream]:
    out: list[mass_balance.Stream] = []
    for i, stream in enumerate(src.raw.get(key) or ()):
        path = f"{src.field(key)}[{i}]"
        if not isinstance(stream, Mapping):
            raise InputError("a stream is a mapping {amount, carbon_fraction}", field=path)
        amount = src.quantity("amount", "t", raw=stream.get("amount"), path=f"{path}.amount")
        if stream.get("carbon_fraction") is not None:
            carbon = src.quantity(
                "carbon_fraction",
                "dimensionless",
                raw=stream["carbon_fraction"],
                path=f"{path}.carbon_fraction",
            )
        else:
            carbon = src.quantity(
                "carbon_content",
                "tC/t",
                raw=stream.get("carbon_content"),
                path=f"{path}.carbon_fraction",
            )
        out.append(mass_balance.Stream(amount, carbon))
    return out


def series(src: SourceReader, key: str, unit: str) -> tuple[list[float], str]:
    """Hourly values: ``{unit: "%vol", values: [...]}``, a list of quantities, or one quantity."""
    raw = src.raw.get(key)
    path = src.field(key)
    if raw is None:
        raise MissingParameter(f"{key} is required", field=path)
    if isinstance(raw, Mapping):
        given_unit = str(raw.get("unit") or unit)
        values = raw.get("values")
        if not isinstance(values, list):
            raise InputError("values must be a list of numbers", field=f"{path}.values")
        units.unit(given_unit)
        try:
            return [float(v) for v in values], given_unit
        except (TypeError, ValueError):
            raise InputError("values must be numbers", field=f"{path}.values") from None
    items = raw if isinstance(raw, list) else [raw]
    return [units.magnitude(v, unit, field=f"{path}[{i}]") for i, v in enumerate(items)], unit


def energy_uses(ctx: Context, src: SourceReader, key: str) -> list[energy.EnergyUse]:
    out: list[energy.EnergyUse] = []
    for i, item in enumerate(src.raw.get(key) or ()):
        path = f"{src.field(key)}[{i}]"
        if not isinstance(item, Mapping) or not item.get("carrier"):
            raise MissingParameter("each carrier needs carrier and amount", field=f"{path}.carrier")
        carrier = str(item["carrier"])
        raw_amount = item.get("amount")
        if item.get("coefficient") is not None:
            quantity = units.parse(str(item["coefficient"]), field=f"{path}.coefficient")
            unit = f"{quantity.units}"
            coefficient = given(
                "tce_coefficient",
                float(quantity.magnitude),
                unit,
                origin=Origin.MEASURED,
                field=f"{path}.coefficient",
            )
        elif item.get("ncv") is not None:
            quantity = units.parse(str(item["ncv"]), field=f"{path}.ncv")
            ncv = given(
                "ncv",
                float(quantity.magnitude),
                f"{quantity.units}",
                origin=Origin.MEASURED,
                field=f"{path}.ncv",
            )
            coefficient = energy.coefficient_from_ncv(
                ncv, ctx.catalog.constant("coal_equivalent_heat", "kgce", unit="kJ/kgce")
            )
        else:
            try:
                factor = ctx.catalog.lookup("tce_coefficient", carrier, on=ctx.on)
            except UnknownFactor as exc:
                raise MissingParameter(
                    f"no GB/T 2589 coefficient for {carrier!r}; give coefficient or ncv ({exc})",
                    field=f"{path}.coefficient",
                ) from None
            coefficient = factor.parameter("tce_coefficient")
        per = coefficient.unit.split("/", 1)[1].strip("()")
        amount = src.quantity("amount", per, raw=raw_amount, path=f"{path}.amount")
        out.append(energy.EnergyUse(carrier, amount, coefficient))
    return out


def fuel_unit(ctx: Context, fuel: str, src: SourceReader) -> str:
    """t for solid and liquid fuels, 10^4 Nm3 for gases (from the fuel's default NCV unit)."""
    for factor in ctx.catalog.factors():
        if factor.kind == "ncv" and factor.key == fuel and "/" in factor.unit:
            return factor.unit.split("/", 1)[1]
    raw = str(src.raw.get("amount", ""))
    try:
        quantity = units.parse(raw, field=src.field("amount"))
    except InputError:
        return "t"
    return "wNm3" if units.same_dimension(f"{quantity.units}", "Nm3") else "t"
