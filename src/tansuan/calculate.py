"""Compute the emissions of an activity-data file (``tansuan calc FILE``).

The orchestrator over :mod:`tansuan.domain`: it reads the YAML document, converts
every quantity once (with the field's path in any error), fills each parameter left
out from the factor catalog — by the file's ``year`` and ``region`` — and runs the
method of each source. The file looks like this (``examples/plant.yaml``)::

    gwp: AR5
    year: 2024
    region: east
    sources:
      - {id: boiler, method: combustion, fuel: raw_coal, amount: 10000 t,
         carbon_content: 0.55 tC/t, oxidation: 0.99}
      - {id: grid, method: electricity, amount: 8000000 kWh, factor: 0.5810 tCO2/MWh}

A parameter written in the file is plant data and counts as ``measured``; write
``{value: 0.5810 tCO2/MWh, origin: supplier}`` for a supplier's figure. Anything left
out comes from the catalog (origin ``default``), and the trace says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tansuan.activity import (
    Context,
    Doc,
    SourceReader,
    energy_uses,
    fuel_unit,
    parameter,
    series,
    streams,
)
from tansuan.domain import (
    cems,
    combustion,
    direct,
    electricity,
    energy,
    mass_balance,
    process,
    refrigerant,
    units,
)
from tansuan.domain.catalog import FactorCatalog, shipped_catalog
from tansuan.domain.gases import Inventory, gwp_set
from tansuan.domain.result import EmissionResult, Origin, Parameter, given
from tansuan.errors import InputError, MissingParameter, UnitError, UnknownFactor

FUEL_KINDS = ("ncv", "carbon_per_heat", "oxidation")


@dataclass(frozen=True)
class SourceOutcome:
    """One source of the file and what its method returned."""

    id: str
    method: str
    result: EmissionResult | energy.EnergyResult

    @property
    def co2e_t(self) -> float:
        return self.result.co2e_t if isinstance(self.result, EmissionResult) else 0.0

    @property
    def gases_t(self) -> Mapping[str, float]:
        return self.result.gases_t if isinstance(self.result, EmissionResult) else {}

    def as_dict(self) -> dict[str, Any]:
        trace = self.result.trace.as_dict()
        trace["defaults_used"] = [
            p.factor_id
            for p in self.result.trace.factors
            if p.origin == Origin.DEFAULT and p.factor_id is not None
        ]
        if isinstance(self.result, EmissionResult):
            trace["gwp_set"] = self.result.gwp_set
            trace["details"] = dict(self.result.details)
        else:
            trace["details"] = {
                "energy_tce": self.result.energy_tce,
                "by_carrier_tce": dict(self.result.by_carrier_tce),
                "intensity": self.result.intensity,
                "intensity_unit": self.result.intensity_unit,
            }
        return {
            "id": self.id,
            "method": self.method,
            "co2e_t": self.co2e_t,
            "gases": dict(self.gases_t),
            "trace": trace,
        }


@dataclass(frozen=True)
class Calculation:
    """All sources of a file under one GWP set; the total is the sum of the parts."""

    gwp_set: str
    year: int | None
    region: str | None
    sources: tuple[SourceOutcome, ...]
    total_co2e_t: float

    def as_json(self) -> dict[str, Any]:
        """``{"total_co2e_t": …, "sources": [{"id", "method", "co2e_t", "gases", "trace"}]}``."""
        return {
            "total_co2e_t": self.total_co2e_t,
            "sources": [s.as_dict() for s in self.sources],
        }


# -- methods ------------------------------------------------------------------------------


def _combustion(ctx: Context, src: SourceReader) -> EmissionResult:
    fuel = src.text("fuel")
    known = set().union(*(ctx.catalog.keys(kind) for kind in FUEL_KINDS))
    if fuel not in known:
        raise UnknownFactor(
            f"unknown fuel {fuel!r}; known fuels: {', '.join(sorted(known))}",
            field=src.field("fuel"),
        )
    series = src.raw.get("series")
    amount_unit = fuel_unit(ctx, fuel, src)
    amount = src.quantity("amount", amount_unit, name="fuel_amount")
    per = amount_unit
    carbon_content: Parameter | None = None
    if src.has("carbon_content"):
        measured, supplier = src.given_value("carbon_content", f"tC/{per}")
        value = measured if measured is not None else supplier
        origin = Origin.MEASURED if measured is not None else Origin.SUPPLIER
        assert value is not None
        carbon_content = given(
            "carbon_content", value, f"tC/{per}", origin=origin, field=src.field("carbon_content")
        )
    elif src.has("carbon_content_ad"):
        carbon_ad = src.quantity("carbon_content_ad", f"tC/{per}", name="carbon_content_ad")
        carbon_ad = given(
            "carbon_content_ad",
            carbon_ad.value,
            carbon_ad.unit,
            origin=Origin.MEASURED,
            field=carbon_ad.field,
        )
        carbon_content = combustion.as_received_carbon(
            carbon_ad,
            src.quantity("moisture_ar", "percent", name="moisture_ar"),
            src.quantity("moisture_ad", "percent", name="moisture_ad"),
        )
    ch4_n2o = src.raw.get("ch4_n2o")
    needs_ncv = carbon_content is None or ch4_n2o is not None or src.has("ncv")
    ncv = (
        parameter(
            ctx,
            src,
            "ncv",
            name="ncv",
            kind="ncv",
            catalog_key=fuel,
            unit=f"GJ/{per}",
            series=series,
        )
        if needs_ncv
        else None
    )
    carbon_per_heat = (
        parameter(
            ctx,
            src,
            "carbon_content_per_heat",
            name="carbon_per_heat",
            kind="carbon_per_heat",
            catalog_key=fuel,
            unit="tC/GJ",
            series=series,
        )
        if carbon_content is None
        else None
    )
    oxidation = parameter(
        ctx,
        src,
        "oxidation",
        name="oxidation",
        kind="oxidation",
        catalog_key=fuel,
        unit="dimensionless",
        series=series,
    )
    ch4 = n2o = None
    if ch4_n2o is not None:
        ch4 = ctx.catalog.lookup("ch4_combustion", fuel, series=str(ch4_n2o)).parameter(
            "ch4_factor", "kg/TJ"
        )
        n2o = ctx.catalog.lookup("n2o_combustion", fuel, series=str(ch4_n2o)).parameter(
            "n2o_factor", "kg/TJ"
        )
    return combustion.combustion(
        fuel=fuel,
        amount=amount,
        oxidation=oxidation,
        co2_per_c=ctx.co2_per_c(),
        gwp=ctx.gwp,
        ncv=ncv,
        carbon_per_heat=carbon_per_heat,
        carbon_content=carbon_content,
        ch4_factor=ch4,
        n2o_factor=n2o,
    )


def _electricity(ctx: Context, src: SourceReader) -> EmissionResult:
    amount = src.quantity("amount", "MWh", name="electricity_mwh")
    series = src.raw.get("series") or ctx.grid_series
    location_factor = parameter(
        ctx,
        src,
        "factor",
        name="grid_factor",
        kind="grid_electricity",
        catalog_key="electricity",
        unit="tCO2/MWh",
        series=series,
    )
    instruments: list[electricity.Instrument] = []
    for key in ("green_certificates", "green_power_contracts"):
        if src.has(key):
            kind = "green_certificate" if key == "green_certificates" else "green_power_contract"
            factor = ctx.catalog.lookup("contract_instrument", kind, on=ctx.on).parameter(
                f"{kind}_factor", "tCO2/MWh"
            )
            instruments.append(
                electricity.Instrument(kind, src.quantity(key, "MWh", name=f"{key}_mwh"), factor)
            )
    for i, contract in enumerate(src.raw.get("contracts") or ()):
        path = f"{src.field('contracts')}[{i}]"
        if not isinstance(contract, Mapping):
            raise InputError("a contract is a mapping {amount, factor}", field=path)
        energy_mwh = src.quantity(
            "amount", "MWh", raw=contract.get("amount"), path=f"{path}.amount"
        )
        factor_value = units.magnitude(
            contract.get("factor", ""), "tCO2/MWh", field=f"{path}.factor"
        )
        instruments.append(
            electricity.Instrument(
                "supplier_contract",
                energy_mwh,
                given(
                    "contract_factor",
                    factor_value,
                    "tCO2/MWh",
                    origin=Origin.SUPPLIER,
                    field=f"{path}.factor",
                ),
            )
        )
    basis = src.raw.get("basis") or ("market" if instruments else "location")
    if basis == "location":
        return electricity.location_based(electricity=amount, factor=location_factor, gwp=ctx.gwp)
    if basis != "market":
        raise InputError(
            f"basis must be location or market, got {basis!r}", field=src.field("basis")
        )
    notes: list[str] = []
    if src.has("residual_factor") or src.has("residual_series"):
        residual = parameter(
            ctx,
            src,
            "residual_factor",
            name="residual_factor",
            kind="grid_electricity",
            catalog_key="electricity",
            unit="tCO2/MWh",
            series=src.raw.get("residual_series"),
        )
    else:
        residual = location_factor
        notes.append(
            "no residual factor given: the location-based grid factor is used for the "
            "uncovered consumption (GHG Protocol Scope 2 Guidance, when no residual mix exists)"
        )
    return electricity.market_based(
        electricity=amount,
        instruments=instruments,
        residual_factor=residual,
        gwp=ctx.gwp,
        notes=notes,
    )


def _heat(ctx: Context, src: SourceReader) -> EmissionResult:
    amount = src.quantity("amount", "GJ", name="heat_gj")
    factor = parameter(
        ctx,
        src,
        "factor",
        name="heat_factor",
        kind="heat",
        catalog_key="heat",
        unit="tCO2/GJ",
        series=src.raw.get("series"),
    )
    return electricity.heat(heat=amount, factor=factor, gwp=ctx.gwp)


def _process(ctx: Context, src: SourceReader) -> EmissionResult:
    material = src.text("material")
    if material == "clinker":
        ratio = ctx.catalog.constant
        return process.clinker(
            clinker=src.quantity("amount", "t", name="clinker_t"),
            cao=src.quantity("cao", "dimensionless", name="cao_fraction"),
            mgo=src.quantity("mgo", "dimensionless", name="mgo_fraction"),
            cao_non_carbonate=src.quantity("cao_non_carbonate", "dimensionless")
            if src.has("cao_non_carbonate")
            else None,
            mgo_non_carbonate=src.quantity("mgo_non_carbonate", "dimensionless")
            if src.has("mgo_non_carbonate")
            else None,
            co2_per_cao=ratio("ratio", "co2_per_cao", unit="tCO2/t"),
            co2_per_mgo=ratio("ratio", "co2_per_mgo", unit="tCO2/t"),
            gwp=ctx.gwp,
        )
    amount = src.quantity("amount", "t", name="material_t")
    if material in ctx.catalog.keys("fgd_sorbent_factor"):

        def fgd(key: str, kind: str) -> Parameter:
            return parameter(
                ctx, src, key, name=key, kind=kind, catalog_key="default", unit="dimensionless"
            )

        return process.fgd_sorbent(
            sorbent=amount,
            carbonate_fraction=fgd("carbonate_fraction", "fgd_carbonate_fraction"),
            factor=parameter(
                ctx,
                src,
                "factor",
                name="process_factor",
                kind="fgd_sorbent_factor",
                catalog_key=material,
                unit="tCO2/t",
            ),
            conversion=fgd("conversion", "fgd_conversion"),
            gwp=ctx.gwp,
        )
    if material not in ctx.catalog.keys("process_factor") and not src.has("factor"):
        known = sorted(ctx.catalog.keys("process_factor") | ctx.catalog.keys("fgd_sorbent_factor"))
        raise UnknownFactor(
            f"unknown material {material!r}; known: clinker, {', '.join(known)} "
            "(or give its factor)",
            field=src.field("material"),
        )
    factor = parameter(
        ctx,
        src,
        "factor",
        name="process_factor",
        kind="process_factor",
        catalog_key=material,
        unit="tCO2/t",
    )
    return process.carbonate(material=amount, factor=factor, gwp=ctx.gwp)


def _mass_balance(ctx: Context, src: SourceReader) -> EmissionResult:
    inputs = streams(src, "inputs")
    if not inputs:
        raise MissingParameter("at least one input stream is required", field=src.field("inputs"))
    return mass_balance.carbon_balance(
        inputs=inputs, outputs=streams(src, "outputs"), co2_per_c=ctx.co2_per_c(), gwp=ctx.gwp
    )


def _cems(ctx: Context, src: SourceReader) -> EmissionResult:
    concentration, c_unit = series(src, "concentration", "mg/m**3")
    flow, f_unit = series(src, "flow", "m**3/h")

    def optional(key: str, unit: str) -> list[float] | None:
        if not src.has(key):
            return None
        values, given = series(src, key, unit)
        if units.canonical(given) == units.canonical(unit):
            return values
        try:
            ratio = units.factor(given, unit)
        except UnitError as exc:
            raise UnitError(exc.message, field=src.field(key)) from None
        return [v * ratio for v in values]

    def one_or_many(values: list[float] | None) -> float | list[float] | None:
        return values[0] if values is not None and len(values) == 1 else values

    return cems.cems_co2(
        concentration=concentration,
        concentration_unit=c_unit,
        flow=flow,
        flow_unit=f_unit,
        constants=cems.CemsConstants.from_catalog(ctx.catalog),
        gwp=ctx.gwp,
        basis=src.raw.get("basis", "dry"),
        state=src.raw.get("state", "standard"),
        flow_state=src.raw.get("flow_state", "standard_dry"),
        flue_temperature_c=one_or_many(optional("flue_temperature", "degC")),
        ambient_pressure_pa=one_or_many(optional("ambient_pressure", "Pa")),
        static_pressure_pa=one_or_many(optional("static_pressure", "Pa")) or 0.0,
        moisture=one_or_many(optional("moisture", "dimensionless")),
        valid_minutes=src.raw.get("valid_minutes"),
        field=src.path,
    )


REFRIGERANT_TERMS = (
    "inventory_start",
    "inventory_end",
    "purchased",
    "sold",
    "retired_charge",
    "new_charge",
)


def _refrigerant(ctx: Context, src: SourceReader) -> EmissionResult:
    name = src.text("refrigerant")
    components = ctx.catalog.refrigerant(name, field=src.field("refrigerant"))
    terms = {
        key: src.quantity(key, "t", name=f"{key}_t") if src.has(key) else given(f"{key}_t", 0, "t")
        for key in REFRIGERANT_TERMS
    }
    return refrigerant.refrigerant_loss(
        refrigerant=name, components=components, gwp=ctx.gwp, **terms
    )


def _direct(ctx: Context, src: SourceReader) -> EmissionResult:
    gases = src.raw.get("gases")
    if not isinstance(gases, Mapping) or not gases:
        raise MissingParameter("gases is required, e.g. {SF6: 0.12 t}", field=src.field("gases"))
    pairs = [
        (str(gas), src.quantity(str(gas), "t", raw=mass, path=f"{src.field('gases')}.{gas}"))
        for gas, mass in gases.items()
    ]
    return direct.direct(gases=pairs, gwp=ctx.gwp)


def _energy(ctx: Context, src: SourceReader) -> energy.EnergyResult:
    uses = energy_uses(ctx, src, "carriers")
    if not uses:
        raise MissingParameter("at least one carrier is required", field=src.field("carriers"))
    output = None
    if src.has("output"):
        quantity = units.parse(str(src.raw["output"]), field=src.field("output"))
        output = given(
            "output", float(quantity.magnitude), f"{quantity.units}", field=src.field("output")
        )
    return energy.comprehensive_energy(
        uses=uses, exported=energy_uses(ctx, src, "exported"), output=output
    )


Method = Callable[[Context, SourceReader], EmissionResult | energy.EnergyResult]

METHODS: dict[str, tuple[Method, tuple[str, ...]]] = {
    "combustion": (
        _combustion,
        (
            "fuel",
            "amount",
            "ncv",
            "carbon_content",
            "carbon_content_per_heat",
            "oxidation",
            "carbon_content_ad",
            "moisture_ar",
            "moisture_ad",
            "series",
            "region",
            "ch4_n2o",
        ),
    ),
    "electricity": (
        _electricity,
        (
            "amount",
            "factor",
            "series",
            "region",
            "basis",
            "green_certificates",
            "green_power_contracts",
            "contracts",
            "residual_factor",
            "residual_series",
            "scope",
        ),
    ),
    "heat": (_heat, ("amount", "factor", "series", "region", "scope")),
    "process": (
        _process,
        (
            "material",
            "amount",
            "factor",
            "carbonate_fraction",
            "conversion",
            "cao",
            "mgo",
            "cao_non_carbonate",
            "mgo_non_carbonate",
        ),
    ),
    "mass_balance": (_mass_balance, ("inputs", "outputs")),
    "cems": (
        _cems,
        (
            "concentration",
            "flow",
            "basis",
            "state",
            "flow_state",
            "flue_temperature",
            "ambient_pressure",
            "static_pressure",
            "moisture",
            "valid_minutes",
        ),
    ),
    "refrigerant": (_refrigerant, ("refrigerant", *REFRIGERANT_TERMS)),
    "direct": (_direct, ("gases",)),
    "energy": (_energy, ("carriers", "exported", "output")),
}


def calculate(doc: Doc, *, catalog: FactorCatalog | None = None) -> Calculation:
    """Run every source of an activity-data document (already parsed from YAML)."""
    if not isinstance(doc, Mapping):
        raise InputError("the file must be a mapping with gwp and sources")
    catalog = catalog or shipped_catalog()
    gwp_name = doc.get("gwp")
    if not gwp_name:
        raise MissingParameter("gwp is required (SAR, AR4, AR5 or AR6)", field="gwp")
    try:
        gwp = gwp_set(str(gwp_name))
    except UnknownFactor as exc:
        raise UnknownFactor(exc.message, field="gwp") from None
    ctx = Context(catalog, gwp, doc)
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise MissingParameter("sources must be a non-empty list", field="sources")
    inventory = Inventory(gwp.name)
    outcomes: list[SourceOutcome] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_sources):
        method_name = raw.get("method") if isinstance(raw, Mapping) else None
        if method_name not in METHODS:
            raise InputError(
                f"unknown method {method_name!r}; choose one of {', '.join(METHODS)}",
                field=f"sources[{index}].method",
            )
        method, allowed = METHODS[method_name]
        src = SourceReader(raw, index, allowed)
        source_id = str(raw.get("id") or f"source-{index + 1}")
        if source_id in seen:
            raise InputError(f"duplicate source id {source_id!r}", field=src.field("id"))
        seen.add(source_id)
        result = method(ctx, src)
        if isinstance(result, EmissionResult):
            inventory.add(result, field=src.path)
        outcomes.append(SourceOutcome(source_id, method_name, result))
    return Calculation(
        gwp_set=gwp.name,
        year=ctx.year,
        region=ctx.region,
        sources=tuple(outcomes),
        total_co2e_t=inventory.total_co2e_t,
    )


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
