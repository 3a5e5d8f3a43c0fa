"""Read an activity-data file (``tansuan calc FILE``) into typed inputs, then compute it.

The file's text is converted once, here, into the typed inputs of the method dispatch
(:mod:`.dispatch`): every quantity becomes a :class:`~.method_inputs.Measure` (the number and
the unit it is written in), every parameter written in the file a measure with its
origin, with the path of its field (``sources[2].amount``) in any error. The dispatch
then converts each quantity to the unit its method needs and fills the parameters left
out from the factor catalog — by the file's ``year`` and ``region``. The file looks like
this (``examples/plant.yaml``)::

    gwp: AR5
    year: 2024
    region: east
    sources:
      - {id: boiler, method: combustion, fuel: raw_coal, amount: 10000 t,
         carbon_content: 0.55 tC/t, oxidation: 0.99}
      - {id: grid, method: electricity, amount: 8000000 kWh, factor: 0.5810 tCO2/MWh}

A ``sector:`` (power, steel, cement, …; data/sectors.csv) chooses the fuel factor series
of the combustion sources that name none, and the CH4/N2O category of ``ch4_n2o: true``,
as a site model's sector does (docs/accounting.md, "Factor chain").

A parameter written in the file is plant data and counts as ``measured``; write
``{value: 0.5810 tCO2/MWh, origin: supplier}`` for a supplier's figure. Anything left
out comes from the catalog (origin ``default``), and the trace says so.

The same reading serves the fixed values of a site model's sources (``value: 0.98``,
``value: mee_power``), which the accounting engine passes through :func:`read_inputs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from tansuan.accounting import dispatch, method_inputs
from tansuan.accounting.dispatch import Calculation
from tansuan.accounting.method_inputs import (
    CEMS_UNITS,
    KINDS,
    Carrier,
    Context,
    Contract,
    Hourly,
    Kind,
    Measure,
    SourceInputs,
    Stream,
)
from tansuan.domain import sectors, tables, units
from tansuan.domain.catalog import FactorCatalog, shipped_catalog
from tansuan.domain.gases import gwp_set
from tansuan.domain.result import Origin
from tansuan.errors import InputError, MissingParameter, TansuanError, UnknownFactor

Doc = Mapping[str, Any]


# -- one value ------------------------------------------------------------------------------


def measure(raw: Any, field: str, origin: Origin = Origin.MEASURED) -> Measure:
    """``"10000 t"`` → ``Measure(10000.0, "t")``; a bare number keeps no unit."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Measure(float(raw), None, origin)
    number, unit_text = units.split(raw, field=field)
    return Measure(number, unit_text, origin, shown=str(raw))


def _own_unit(raw: Any, field: str) -> Measure:
    """A quantity kept in the unit it is written in (a bare number is dimensionless)."""
    number, unit_text = units.split(str(raw), field=field)
    return Measure(number, unit_text, shown=str(raw))


def _parameter(raw: Any, field: str) -> Measure:
    """A plant value: ``0.58 tCO2/MWh`` (measured) or ``{value: …, origin: supplier}``."""
    origin = "measured"
    if isinstance(raw, Mapping):
        origin = str(raw.get("origin", "measured"))
        if origin not in ("measured", "supplier"):
            raise InputError(
                f"origin must be measured or supplier, got {origin!r}", field=f"{field}.origin"
            )
        raw = raw.get("value")
        if raw is None:
            raise MissingParameter("value is required", field=f"{field}.value")
    return measure(raw, field, Origin(origin))


def _hourly(raw: Any, key: str, field: str) -> Hourly:
    """``{unit: "%vol", values: [...]}``, a list of quantities, or one quantity."""
    unit = CEMS_UNITS[key]
    if isinstance(raw, Mapping):
        given_unit = str(raw.get("unit") or unit)
        values = raw.get("values")
        if not isinstance(values, list):
            raise InputError("values must be a list of numbers", field=f"{field}.values")
        units.unit(given_unit)
        try:
            return Hourly(tuple(float(v) for v in values), given_unit)
        except (TypeError, ValueError):
            raise InputError("values must be numbers", field=f"{field}.values") from None
    items = raw if isinstance(raw, list) else [raw]
    return Hourly(
        tuple(units.magnitude(v, unit, field=f"{field}[{i}]") for i, v in enumerate(items)), unit
    )


def _contracts(raw: Any, field: str) -> tuple[Contract, ...]:
    out: list[Contract] = []
    for i, contract in enumerate(raw or ()):
        path = f"{field}[{i}]"
        if not isinstance(contract, Mapping):
            raise InputError("a contract is a mapping {amount, factor}", field=path)
        amount = contract.get("amount")
        out.append(
            Contract(
                amount=_deferred(measure, amount, f"{path}.amount") if amount is not None else None,
                factor=_deferred(measure, contract.get("factor", ""), f"{path}.factor"),
            )
        )
    return tuple(out)


def _streams(raw: Any, field: str) -> tuple[Stream, ...]:
    out: list[Stream] = []
    for i, stream in enumerate(raw or ()):
        path = f"{field}[{i}]"
        if not isinstance(stream, Mapping):
            raise InputError("a stream is a mapping {amount, carbon_fraction}", field=path)
        amount = stream.get("amount")
        fraction = stream.get("carbon_fraction")
        content = stream.get("carbon_content") if fraction is None else None
        out.append(
            Stream(
                amount=_deferred(measure, amount, f"{path}.amount") if amount is not None else None,
                carbon_fraction=_deferred(measure, fraction, f"{path}.carbon_fraction")
                if fraction is not None
                else None,
                carbon_content=_deferred(measure, content, f"{path}.carbon_fraction")
                if content is not None
                else None,
            )
        )
    return tuple(out)


def _gases(raw: Any, field: str) -> tuple[tuple[str, Measure | None], ...]:
    if not isinstance(raw, Mapping):
        return ()
    return tuple(
        (str(gas), _deferred(measure, mass, f"{field}.{gas}") if mass is not None else None)
        for gas, mass in raw.items()
    )


def _carriers(raw: Any, field: str) -> tuple[Carrier, ...]:
    out: list[Carrier] = []
    for i, item in enumerate(raw or ()):
        path = f"{field}[{i}]"
        if not isinstance(item, Mapping) or not item.get("carrier"):
            out.append(Carrier(None, None))
            continue
        amount = item.get("amount")
        coefficient = ncv = None
        if item.get("coefficient") is not None:
            coefficient = _deferred(_own_unit, item["coefficient"], f"{path}.coefficient")
        elif item.get("ncv") is not None:
            ncv = _deferred(_own_unit, item["ncv"], f"{path}.ncv")
        out.append(
            Carrier(
                carrier=str(item["carrier"]),
                amount=_deferred(measure, amount, f"{path}.amount") if amount is not None else None,
                coefficient=coefficient,
                ncv=ncv,
            )
        )
    return tuple(out)


def _deferred(read: Callable[[Any, str], Measure], raw: Any, field: str) -> Measure:
    """``read(raw, field)``, or a measure that raises its problem when a method uses it."""
    try:
        return read(raw, field)
    except TansuanError as problem:
        return Measure.unreadable(problem)


def read_value(key: str, raw: Any, *, field: str) -> object:
    """The typed value of ``key`` from its text (or YAML number, list, mapping).

    A key no method reads is returned as it is; :func:`tansuan.accounting.method_inputs.
    check_keys` refuses it by name.
    """
    kind = KINDS.get(key)
    if kind is None or kind is Kind.AS_GIVEN:
        return raw
    if kind is Kind.TEXT:
        return raw if isinstance(raw, str) else str(raw)
    if kind is Kind.QUANTITY:
        return _deferred(measure, raw, field)
    if kind is Kind.PARAMETER:
        return _deferred(_parameter, raw, field)
    if kind is Kind.HOURLY:
        return _hourly(raw, key, field)
    if kind is Kind.OWN_UNIT:
        return _deferred(_own_unit, raw, field)
    if kind is Kind.CONTRACTS:
        return _contracts(raw, field)
    if kind is Kind.STREAMS:
        return _streams(raw, field)
    if kind is Kind.GASES:
        return _gases(raw, field)
    return _carriers(raw, field)


def read_inputs(
    method: str,
    raw: Mapping[str, Any],
    *,
    path: str,
    typed: Mapping[str, object] | None = None,
) -> SourceInputs:
    """The typed inputs of a ``method`` source from its written values (and typed ones).

    Every key is checked before any value is read, so a key the method does not read is
    the error reported. A value of ``None`` counts as left out.
    """
    typed = typed or {}
    method_inputs.check_keys(method, [*raw, *typed], path=path)
    values: dict[str, object] = dict(typed)
    for key, value in raw.items():
        if value is not None:
            values[key] = read_value(key, value, field=f"{path}.{key}")
    return method_inputs.source_inputs(method, values, path=path)


# -- the document ---------------------------------------------------------------------------


def context(doc: Doc, catalog: FactorCatalog) -> Context:
    """The run's context from the document's ``gwp``, ``year``, ``on``, ``region``, …"""
    gwp_name = doc.get("gwp")
    if not gwp_name:
        raise MissingParameter("gwp is required (SAR, AR4, AR5 or AR6)", field="gwp")
    try:
        gwp = gwp_set(str(gwp_name))
    except UnknownFactor as exc:
        raise UnknownFactor(exc.message, field="gwp") from None
    year = doc.get("year")
    if year is not None and not isinstance(year, int):
        raise InputError(f"year must be an integer, got {year!r}", field="year")
    on: date | None = date(year, 1, 1) if year is not None else None
    raw_on = doc.get("on")
    if raw_on is not None:  # a reference date inside the year
        try:
            on = raw_on if isinstance(raw_on, date) else date.fromisoformat(str(raw_on))
        except ValueError:
            raise InputError(
                f"on must be a date (YYYY-MM-DD), got {raw_on!r}", field="on"
            ) from None
    region = doc.get("region")
    return Context(
        catalog=catalog,
        gwp=gwp,
        year=year,
        on=on,
        region=str(region) if region is not None else None,
        grid_series=doc.get("grid_series"),
    )


def read_source(raw: Any, index: int) -> tuple[str, SourceInputs]:
    """One source mapping of the document: its id and typed inputs."""
    path = f"sources[{index}]"
    method = raw.get("method") if isinstance(raw, Mapping) else None
    if method not in method_inputs.METHODS:
        raise InputError(
            f"unknown method {method!r}; choose one of {', '.join(method_inputs.METHODS)}",
            field=f"{path}.method",
        )
    assert isinstance(raw, Mapping)
    values = {k: v for k, v in raw.items() if k not in ("id", "method")}
    source_id = str(raw.get("id") or f"source-{index + 1}")
    return source_id, read_inputs(str(method), values, path=path)


def _sector(doc: Doc) -> sectors.Sector | None:
    """The document's ``sector:`` (data/sectors.csv), if any; an unknown one is refused."""
    name = doc.get("sector")
    if name is None:
        return None
    try:
        return sectors.sector(str(name))
    except UnknownFactor as exc:
        raise UnknownFactor(exc.message, field="sector") from None


def with_sector(raw: Any, sector: sectors.Sector | None) -> Any:
    """A combustion source with the factor chain's choices of a ``sector:`` filled in.

    As in a site model (docs/accounting.md, "Factor chain"): a source without its own
    ``series`` takes its sector's fuel factor series; ``ch4_n2o: true`` takes the sector's
    CH4/N2O category, or the table's default category when no sector is given.
    """
    if not isinstance(raw, Mapping) or raw.get("method") != "combustion":
        return raw
    out = dict(raw)
    if sector is not None:
        out.setdefault("series", sector.factor_series)
    if out.get("ch4_n2o") is True:
        default = (tables.metadata("combustion_ch4_n2o").get("default_series") or {}).get(
            "ch4_combustion"
        )
        out["ch4_n2o"] = sector.ch4_n2o_category if sector is not None else default
    elif out.get("ch4_n2o") is False:
        out.pop("ch4_n2o")
    return out


def calculate(doc: Doc, *, catalog: FactorCatalog | None = None) -> Calculation:
    """Run every source of an activity-data document (already parsed from YAML)."""
    if not isinstance(doc, Mapping):
        raise InputError("the file must be a mapping with gwp and sources")
    ctx = context(doc, catalog or shipped_catalog())
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise MissingParameter("sources must be a non-empty list", field="sources")

    sector = _sector(doc)

    def sources() -> Iterator[tuple[str, SourceInputs]]:
        for index, raw in enumerate(raw_sources):
            yield read_source(with_sector(raw, sector), index)

    return dispatch.calculate(ctx, sources())


def load(path: Path) -> Doc:
    """Read an activity-data YAML file; a YAML error becomes an :class:`InputError`."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if not isinstance(doc, Mapping):
        raise InputError(f"{path} must contain a mapping with gwp and sources")
    return doc


def calculate_file(path: Path, *, catalog: FactorCatalog | None = None) -> Calculation:
    """Read and compute an activity-data file."""
    return calculate(load(path), catalog=catalog)
