"""The method dispatch: a source's method and typed inputs → the domain function → a result.

Every emission source — a line of an activity-data file (``tansuan calc``,
:mod:`.activity_file`), a source-month of the accounting run (:mod:`.engine`) or a what-if
run of the twin (:mod:`tansuan.twin.scenario`) — is computed here, so a number computed
from the store and one computed from a file follow one code path and carry the same trace.

The inputs of a source are small frozen dataclasses, one per method
(:mod:`.method_inputs`: :class:`~.method_inputs.CombustionInputs`, …), whose quantities
are :class:`~.method_inputs.Measure` values: a number with the unit it was measured or
written in. Each quantity is converted once, here, to the unit the domain function
expects, by a numeric factor (:func:`tansuan.domain.units.convert`); nothing is written
out as text and parsed again. Every parameter left out is filled from the factor
catalog by the run's date and region (:meth:`tansuan.domain.catalog.FactorCatalog.
resolve`, precedence measured > supplier > default), and the trace says which row was
used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from tansuan.accounting.method_inputs import (
    CEMS_UNITS,
    REFRIGERANT_TERMS,
    Carrier,
    CemsInputs,
    CombustionInputs,
    Context,
    DirectInputs,
    ElectricityInputs,
    EnergyInputs,
    HeatInputs,
    Hourly,
    MassBalanceInputs,
    Measure,
    ProcessInputs,
    RefrigerantInputs,
    SourceInputs,
    Stream,
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
from tansuan.domain.gases import Inventory
from tansuan.domain.result import EmissionResult, Origin, Parameter, given
from tansuan.domain.scope import Scope, in_total
from tansuan.errors import InputError, MissingParameter, UnitError, UnknownFactor

#: Catalog kinds that make a fuel known to the combustion method.
FUEL_KINDS = ("ncv", "carbon_per_heat", "oxidation")


def _text(value: str | None, key: str, path: str) -> str:
    if value is None or not str(value).strip():
        raise MissingParameter(f"{key} is required", field=f"{path}.{key}")
    return str(value).strip()


def _quantity(
    measure: Measure | None, key: str, unit: str, *, field: str, name: str | None = None
) -> Parameter:
    """A required quantity converted to ``unit`` (activity data, origin ``input``)."""
    if measure is None:
        raise MissingParameter(f"{key} is required", field=field)
    return given(name or key, measure.to(unit, field=field), unit, field=field)


def _given(measure: Measure | None, unit: str, field: str) -> tuple[float | None, float | None]:
    """(measured, supplier) for a parameter the plant gives, converted to ``unit``."""
    if measure is None:
        return None, None
    number = measure.to(unit, field=field)
    return (number, None) if measure.origin == Origin.MEASURED else (None, number)


def _parameter(
    ctx: Context,
    measure: Measure | None,
    field: str,
    *,
    name: str,
    kind: str,
    catalog_key: str,
    unit: str,
    region: str | None,
    series: str | None = None,
) -> Parameter:
    """A parameter by precedence: the plant's value, else the catalog default."""
    measured, supplier = _given(measure, unit, field)
    return ctx.catalog.resolve(
        name,
        kind,
        catalog_key,
        unit=unit,
        measured=measured,
        supplier=supplier,
        on=ctx.on,
        region=region or ctx.region,
        series=series,
        field=field,
    )


# -- methods --------------------------------------------------------------------------------


def _fuel_unit(ctx: Context, fuel: str, amount: Measure | None) -> str:
    """t for solid and liquid fuels, 10^4 Nm3 for gases (from the fuel's default NCV unit)."""
    for factor in ctx.catalog.factors():
        if factor.kind == "ncv" and factor.key == fuel and "/" in factor.unit:
            return factor.unit.split("/", 1)[1]
    if amount is None or amount.unit is None:
        return "t"
    return "wNm3" if units.same_dimension(amount.unit, "Nm3") else "t"


def _combustion(ctx: Context, s: CombustionInputs, path: str) -> EmissionResult:
    fuel = _text(s.fuel, "fuel", path)
    known = set().union(*(ctx.catalog.keys(kind) for kind in FUEL_KINDS))
    if fuel not in known:
        raise UnknownFactor(
            f"unknown fuel {fuel!r}; known fuels: {', '.join(sorted(known))}",
            field=f"{path}.fuel",
        )
    per = _fuel_unit(ctx, fuel, s.amount)
    amount, as_energy = _fuel_amount(s, per, path)
    carbon_content: Parameter | None = None
    if s.carbon_content is not None:
        where = f"{path}.carbon_content"
        measured, supplier = _given(s.carbon_content, f"tC/{per}", where)
        value = measured if measured is not None else supplier
        origin = Origin.MEASURED if measured is not None else Origin.SUPPLIER
        assert value is not None
        carbon_content = given("carbon_content", value, f"tC/{per}", origin=origin, field=where)
    elif s.carbon_content_ad is not None:
        carbon_ad = _quantity(
            s.carbon_content_ad, "carbon_content_ad", f"tC/{per}", field=f"{path}.carbon_content_ad"
        )
        carbon_ad = given(
            "carbon_content_ad",
            carbon_ad.value,
            carbon_ad.unit,
            origin=Origin.MEASURED,
            field=carbon_ad.field,
        )
        carbon_content = combustion.as_received_carbon(
            carbon_ad,
            _quantity(s.moisture_ar, "moisture_ar", "percent", field=f"{path}.moisture_ar"),
            _quantity(s.moisture_ad, "moisture_ad", "percent", field=f"{path}.moisture_ad"),
        )
    per_energy = s.co2_factor is not None or carbon_content is None
    needs_heat = per_energy or any(x is not None for x in (s.ch4_n2o, s.ch4_factor, s.n2o_factor))
    needs_ncv = s.ncv is not None or (needs_heat and not as_energy)
    ncv = (
        _parameter(
            ctx,
            s.ncv,
            f"{path}.ncv",
            name="ncv",
            kind="ncv",
            catalog_key=fuel,
            unit=f"GJ/{per}",
            region=s.region,
            series=s.series,
        )
        if needs_ncv
        else None
    )
    carbon_per_heat = (
        _parameter(
            ctx,
            s.carbon_content_per_heat,
            f"{path}.carbon_content_per_heat",
            name="carbon_per_heat",
            kind="carbon_per_heat",
            catalog_key=fuel,
            unit="tC/GJ",
            region=s.region,
            series=s.series,
        )
        if carbon_content is None and s.co2_factor is None
        else None
    )
    co2_factor = None
    if s.co2_factor is not None:
        where = f"{path}.co2_factor"
        measured, supplier = _given(s.co2_factor, "tCO2/TJ", where)
        value = measured if measured is not None else supplier
        origin = Origin.MEASURED if measured is not None else Origin.SUPPLIER
        assert value is not None
        co2_factor = given("co2_factor", value, "tCO2/TJ", origin=origin, field=where)
    # With a CO2 factor per energy the oxidation factor left out is 1 (IPCC 2006 default
    # factors, MRR tier 1), from the catalog; otherwise the fuel's default.
    of_kind, of_key = (
        ("oxidation_energy_factor", "default") if co2_factor is not None else ("oxidation", fuel)
    )
    oxidation = _parameter(
        ctx,
        s.oxidation,
        f"{path}.oxidation",
        name="oxidation",
        kind=of_kind,
        catalog_key=of_key,
        unit="dimensionless",
        region=s.region,
        series=s.series if co2_factor is None else None,
    )
    ch4 = _non_co2(ctx, s.ch4_factor, s.ch4_n2o, "ch4", fuel, f"{path}.ch4_factor")
    n2o = _non_co2(ctx, s.n2o_factor, s.ch4_n2o, "n2o", fuel, f"{path}.n2o_factor")
    return combustion.combustion(
        fuel=fuel,
        amount=amount,
        oxidation=oxidation,
        co2_per_c=ctx.co2_per_c(),
        gwp=ctx.gwp,
        ncv=ncv,
        carbon_per_heat=carbon_per_heat,
        carbon_content=carbon_content,
        co2_factor=co2_factor,
        ch4_factor=ch4,
        n2o_factor=n2o,
    )


def _fuel_amount(s: CombustionInputs, per: str, path: str) -> tuple[Parameter, bool]:
    """The fuel amount and whether it is energy.

    Written in an energy unit (GJ, TJ, MWh, therm, MMBtu) it is the activity data itself
    and is kept in that unit; in a volume unit (m3, L) it is a liquid's volume, turned
    into a mass by ``density`` (``FC = V × ρ``); otherwise it is converted to ``per``.
    """
    field = f"{path}.amount"
    written = s.amount.checked() if s.amount is not None else None
    unit = written.unit if written is not None else None
    if written is not None and unit is not None and units.same_dimension(unit, "GJ"):
        if s.density is not None:
            raise InputError(
                "density is for a fuel amount given as a volume, not as energy",
                field=f"{path}.density",
            )
        return given("fuel_energy", written.value, unit, field=field), True
    if written is not None and unit is not None and units.same_dimension(unit, "m**3"):
        if s.density is None:
            raise MissingParameter(
                f"燃料以体积计 ({written.shown or unit}) 需给出密度 density / a fuel amount "
                f"given as a volume ({written.shown or unit}) needs its density "
                "(e.g. density: 0.84 t/m3)",
                field=f"{path}.density",
            )
        density_t_m3 = s.density.to("t/m**3", field=f"{path}.density")
        density = given(
            "density", density_t_m3, "t/m**3", origin=s.density.origin, field=f"{path}.density"
        )
        volume = given("fuel_volume", written.value, unit, field=field)
        mass = combustion.fuel_mass(volume, density)
        value = units.convert(mass.value, "t", per, field=field, shown=written.shown)
        return dataclasses.replace(mass, name="fuel_amount", value=value, unit=per), False
    if s.density is not None:
        raise InputError(
            "density is for a fuel amount given as a volume (m3, L)", field=f"{path}.density"
        )
    return _quantity(s.amount, "amount", per, field=field, name="fuel_amount"), False


def _non_co2(
    ctx: Context, plant: Measure | None, series: str | None, gas: str, fuel: str, field: str
) -> Parameter | None:
    """A CH4 or N2O factor [kg/TJ]: the plant's own, else the ``ch4_n2o`` table's, else none.

    IPCC 2006 Vol. 2 Ch. 2 eq. 2.1; a plant-specific factor replaces the table default.
    """
    if plant is not None:
        measured, supplier = _given(plant, "kg/TJ", field)
        value = measured if measured is not None else supplier
        origin = Origin.MEASURED if measured is not None else Origin.SUPPLIER
        assert value is not None
        return given(f"{gas}_factor", value, "kg/TJ", origin=origin, field=field)
    if series is None:
        return None
    return ctx.catalog.lookup(f"{gas}_combustion", fuel, series=str(series)).parameter(
        f"{gas}_factor", "kg/TJ"
    )


def _electricity(ctx: Context, s: ElectricityInputs, path: str) -> EmissionResult:
    amount = _quantity(s.amount, "amount", "MWh", field=f"{path}.amount", name="electricity_mwh")
    location_factor = _parameter(
        ctx,
        s.factor,
        f"{path}.factor",
        name="grid_factor",
        kind="grid_electricity",
        catalog_key="electricity",
        unit="tCO2/MWh",
        region=s.region,
        series=s.series or ctx.grid_series,
    )
    instruments: list[electricity.Instrument] = []
    for key, held in (
        ("green_certificates", s.green_certificates),
        ("green_power_contracts", s.green_power_contracts),
    ):
        if held is not None:
            kind = "green_certificate" if key == "green_certificates" else "green_power_contract"
            factor = ctx.catalog.lookup("contract_instrument", kind, on=ctx.on).parameter(
                f"{kind}_factor", "tCO2/MWh"
            )
            energy_mwh = _quantity(held, key, "MWh", field=f"{path}.{key}", name=f"{key}_mwh")
            instruments.append(electricity.Instrument(kind, energy_mwh, factor))
    for i, contract in enumerate(s.contracts):
        where = f"{path}.contracts[{i}]"
        # A contract without its own amount takes the source's amount.
        contract_amount = contract.amount if contract.amount is not None else s.amount
        energy_mwh = _quantity(contract_amount, "amount", "MWh", field=f"{where}.amount")
        factor_value = contract.factor.to("tCO2/MWh", field=f"{where}.factor")
        instruments.append(
            electricity.Instrument(
                "supplier_contract",
                energy_mwh,
                given(
                    "contract_factor",
                    factor_value,
                    "tCO2/MWh",
                    origin=Origin.SUPPLIER,
                    field=f"{where}.factor",
                ),
            )
        )
    basis = s.basis or ("market" if instruments else "location")
    if basis == "location":
        return electricity.location_based(electricity=amount, factor=location_factor, gwp=ctx.gwp)
    if basis != "market":
        raise InputError(f"basis must be location or market, got {basis!r}", field=f"{path}.basis")
    notes: list[str] = []
    if s.residual_factor is not None or s.residual_series is not None:
        residual = _parameter(
            ctx,
            s.residual_factor,
            f"{path}.residual_factor",
            name="residual_factor",
            kind="grid_electricity",
            catalog_key="electricity",
            unit="tCO2/MWh",
            region=s.region,
            series=s.residual_series,
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


def _heat(ctx: Context, s: HeatInputs, path: str) -> EmissionResult:
    amount = _quantity(s.amount, "amount", "GJ", field=f"{path}.amount", name="heat_gj")
    factor = _parameter(
        ctx,
        s.factor,
        f"{path}.factor",
        name="heat_factor",
        kind="heat",
        catalog_key="heat",
        unit="tCO2/GJ",
        region=s.region,
        series=s.series,
    )
    return electricity.heat(heat=amount, factor=factor, gwp=ctx.gwp)


def _process(ctx: Context, s: ProcessInputs, path: str) -> EmissionResult:
    material = _text(s.material, "material", path)

    def fraction(measure: Measure | None, key: str, name: str | None = None) -> Parameter:
        return _quantity(measure, key, "dimensionless", field=f"{path}.{key}", name=name)

    if material == "clinker":
        ratio = ctx.catalog.constant
        return process.clinker(
            clinker=_quantity(s.amount, "amount", "t", field=f"{path}.amount", name="clinker_t"),
            cao=fraction(s.cao, "cao", "cao_fraction"),
            mgo=fraction(s.mgo, "mgo", "mgo_fraction"),
            cao_non_carbonate=fraction(s.cao_non_carbonate, "cao_non_carbonate")
            if s.cao_non_carbonate is not None
            else None,
            mgo_non_carbonate=fraction(s.mgo_non_carbonate, "mgo_non_carbonate")
            if s.mgo_non_carbonate is not None
            else None,
            co2_per_cao=ratio("ratio", "co2_per_cao", unit="tCO2/t"),
            co2_per_mgo=ratio("ratio", "co2_per_mgo", unit="tCO2/t"),
            gwp=ctx.gwp,
        )
    amount = _quantity(s.amount, "amount", "t", field=f"{path}.amount", name="material_t")
    if material in ctx.catalog.keys("fgd_sorbent_factor"):

        def fgd(measure: Measure | None, key: str, kind: str) -> Parameter:
            return _parameter(
                ctx,
                measure,
                f"{path}.{key}",
                name=key,
                kind=kind,
                catalog_key="default",
                unit="dimensionless",
                region=None,
            )

        return process.fgd_sorbent(
            sorbent=amount,
            carbonate_fraction=fgd(
                s.carbonate_fraction, "carbonate_fraction", "fgd_carbonate_fraction"
            ),
            factor=_parameter(
                ctx,
                s.factor,
                f"{path}.factor",
                name="process_factor",
                kind="fgd_sorbent_factor",
                catalog_key=material,
                unit="tCO2/t",
                region=None,
            ),
            conversion=fgd(s.conversion, "conversion", "fgd_conversion"),
            gwp=ctx.gwp,
        )
    if material not in ctx.catalog.keys("process_factor") and s.factor is None:
        known = sorted(ctx.catalog.keys("process_factor") | ctx.catalog.keys("fgd_sorbent_factor"))
        raise UnknownFactor(
            f"unknown material {material!r}; known: clinker, {', '.join(known)} "
            "(or give its factor)",
            field=f"{path}.material",
        )
    factor = _parameter(
        ctx,
        s.factor,
        f"{path}.factor",
        name="process_factor",
        kind="process_factor",
        catalog_key=material,
        unit="tCO2/t",
        region=None,
    )
    return process.carbonate(material=amount, factor=factor, gwp=ctx.gwp)


def _streams(streams: Sequence[Stream], where: str) -> list[mass_balance.Stream]:
    out: list[mass_balance.Stream] = []
    for i, stream in enumerate(streams):
        path = f"{where}[{i}]"
        amount = _quantity(stream.amount, "amount", "t", field=f"{path}.amount")
        if stream.carbon_fraction is not None:
            carbon = _quantity(
                stream.carbon_fraction,
                "carbon_fraction",
                "dimensionless",
                field=f"{path}.carbon_fraction",
            )
        else:
            carbon = _quantity(
                stream.carbon_content, "carbon_content", "tC/t", field=f"{path}.carbon_fraction"
            )
        out.append(mass_balance.Stream(amount, carbon))
    return out


def _mass_balance(ctx: Context, s: MassBalanceInputs, path: str) -> EmissionResult:
    inputs = _streams(s.inputs, f"{path}.inputs")
    if not inputs:
        raise MissingParameter("at least one input stream is required", field=f"{path}.inputs")
    return mass_balance.carbon_balance(
        inputs=inputs,
        outputs=_streams(s.outputs, f"{path}.outputs"),
        co2_per_c=ctx.co2_per_c(),
        gwp=ctx.gwp,
    )


def _cems(ctx: Context, s: CemsInputs, path: str) -> EmissionResult:
    def required(hourly: Hourly | None, key: str) -> Hourly:
        if hourly is None:
            raise MissingParameter(f"{key} is required", field=f"{path}.{key}")
        return hourly

    concentration = required(s.concentration, "concentration")
    flow = required(s.flow, "flow")

    def optional(value: Hourly | Measure | None, key: str) -> list[float] | None:
        unit = CEMS_UNITS[key]
        if value is None:
            return None
        if isinstance(value, Measure):  # one value for every hour
            return [value.to(unit, field=f"{path}.{key}[0]")]
        if units.canonical(value.unit) == units.canonical(unit):
            return list(value.values)
        try:
            ratio = units.factor(value.unit, unit)
        except UnitError as exc:
            raise UnitError(exc.message, field=f"{path}.{key}") from None
        return [v * ratio for v in value.values]

    def one_or_many(values: list[float] | None) -> float | list[float] | None:
        return values[0] if values is not None and len(values) == 1 else values

    return cems.cems_co2(
        concentration=list(concentration.values),
        concentration_unit=concentration.unit,
        flow=list(flow.values),
        flow_unit=flow.unit,
        constants=cems.CemsConstants.from_catalog(ctx.catalog),
        gwp=ctx.gwp,
        basis=cast(cems.Basis, "dry" if s.basis is None else s.basis),
        state=cast(cems.State, "standard" if s.state is None else s.state),
        flow_state=cast(cems.FlowState, "standard_dry" if s.flow_state is None else s.flow_state),
        flue_temperature_c=one_or_many(optional(s.flue_temperature, "flue_temperature")),
        ambient_pressure_pa=one_or_many(optional(s.ambient_pressure, "ambient_pressure")),
        static_pressure_pa=one_or_many(optional(s.static_pressure, "static_pressure")) or 0.0,
        moisture=one_or_many(optional(s.moisture, "moisture")),
        valid_minutes=s.valid_minutes,
        field=path,
    )


def _refrigerant(ctx: Context, s: RefrigerantInputs, path: str) -> EmissionResult:
    name = _text(s.refrigerant, "refrigerant", path)
    components = ctx.catalog.refrigerant(name, field=f"{path}.refrigerant")
    terms: dict[str, Parameter] = {}
    for key in REFRIGERANT_TERMS:
        measure: Measure | None = getattr(s, key)
        terms[key] = (
            _quantity(measure, key, "t", field=f"{path}.{key}", name=f"{key}_t")
            if measure is not None
            else given(f"{key}_t", 0, "t")
        )
    return refrigerant.refrigerant_loss(
        refrigerant=name, components=components, gwp=ctx.gwp, **terms
    )


def _direct(ctx: Context, s: DirectInputs, path: str) -> EmissionResult:
    if not s.gases:
        raise MissingParameter("gases is required, e.g. {SF6: 0.12 t}", field=f"{path}.gases")
    pairs = [(gas, _quantity(mass, gas, "t", field=f"{path}.gases.{gas}")) for gas, mass in s.gases]
    return direct.direct(gases=pairs, gwp=ctx.gwp)


def _energy_uses(ctx: Context, carriers: Sequence[Carrier], where: str) -> list[energy.EnergyUse]:
    out: list[energy.EnergyUse] = []
    for i, item in enumerate(carriers):
        path = f"{where}[{i}]"
        if not item.carrier:
            raise MissingParameter("each carrier needs carrier and amount", field=f"{path}.carrier")
        if item.coefficient is not None:
            written = item.coefficient.checked()
            coefficient = given(
                "tce_coefficient",
                written.value,
                written.unit_text,
                origin=Origin.MEASURED,
                field=f"{path}.coefficient",
            )
        elif item.ncv is not None:
            written = item.ncv.checked()
            ncv = given(
                "ncv",
                written.value,
                written.unit_text,
                origin=Origin.MEASURED,
                field=f"{path}.ncv",
            )
            coefficient = energy.coefficient_from_ncv(
                ncv, ctx.catalog.constant("coal_equivalent_heat", "kgce", unit="kJ/kgce")
            )
        else:
            try:
                factor = ctx.catalog.lookup("tce_coefficient", item.carrier, on=ctx.on)
            except UnknownFactor as exc:
                raise MissingParameter(
                    f"no GB/T 2589 coefficient for {item.carrier!r}; give coefficient or ncv "
                    f"({exc})",
                    field=f"{path}.coefficient",
                ) from None
            coefficient = factor.parameter("tce_coefficient")
        per = coefficient.unit.split("/", 1)[1].strip("()")
        amount = _quantity(item.amount, "amount", per, field=f"{path}.amount")
        out.append(energy.EnergyUse(item.carrier, amount, coefficient))
    return out


def _energy(ctx: Context, s: EnergyInputs, path: str) -> energy.EnergyResult:
    uses = _energy_uses(ctx, s.carriers, f"{path}.carriers")
    if not uses:
        raise MissingParameter("at least one carrier is required", field=f"{path}.carriers")
    output = None
    if s.output is not None:
        written = s.output.checked()
        output = given("output", written.value, written.unit_text, field=f"{path}.output")
    return energy.comprehensive_energy(
        uses=uses, exported=_energy_uses(ctx, s.exported, f"{path}.exported"), output=output
    )


def compute(
    ctx: Context, inputs: SourceInputs, *, path: str
) -> EmissionResult | energy.EnergyResult:
    """Run the domain method of one source; ``path`` prefixes every field in errors and traces.

    ``path`` is where the source sits in its document (``sources[2]``): the trace's
    inputs name their fields under it (``sources[2].amount``).
    """
    if isinstance(inputs, CombustionInputs):
        return _combustion(ctx, inputs, path)
    if isinstance(inputs, ElectricityInputs):
        return _electricity(ctx, inputs, path)
    if isinstance(inputs, HeatInputs):
        return _heat(ctx, inputs, path)
    if isinstance(inputs, ProcessInputs):
        return _process(ctx, inputs, path)
    if isinstance(inputs, MassBalanceInputs):
        return _mass_balance(ctx, inputs, path)
    if isinstance(inputs, CemsInputs):
        return _cems(ctx, inputs, path)
    if isinstance(inputs, RefrigerantInputs):
        return _refrigerant(ctx, inputs, path)
    if isinstance(inputs, DirectInputs):
        return _direct(ctx, inputs, path)
    return _energy(ctx, inputs, path)


# -- results --------------------------------------------------------------------------------


def scope_of(inputs: SourceInputs, result: EmissionResult | energy.EnergyResult) -> Scope | None:
    """The reporting scope of a computed source (GHG Protocol Corporate Standard ch. 4).

    Purchased electricity and heat are Scope 2, split by the basis the result was
    computed on (Scope 2 Guidance ch. 4: a market-based result is
    :attr:`~tansuan.domain.scope.Scope.MARKET`); every other emission method computes
    the plant's own emissions, Scope 1. The energy method carries no emissions: ``None``.
    """
    if isinstance(result, energy.EnergyResult):
        return None
    if isinstance(inputs, ElectricityInputs | HeatInputs):
        return Scope.of(2, "market" if result.method == "electricity_market" else "location")
    return Scope.DIRECT


@dataclass(frozen=True)
class SourceOutcome:
    """One source, what its method returned and its reporting scope (``None``: no emissions)."""

    id: str
    method: str
    result: EmissionResult | energy.EnergyResult
    scope: Scope | None = None

    @property
    def co2e_t(self) -> float:
        return self.result.co2e_t if isinstance(self.result, EmissionResult) else 0.0

    @property
    def gases_t(self) -> Mapping[str, float]:
        return self.result.gases_t if isinstance(self.result, EmissionResult) else {}

    @property
    def in_total(self) -> bool:
        """Whether this source is added into the total (:func:`~tansuan.domain.scope.in_total`)."""
        return self.scope is not None and in_total(self.scope)

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
            "scope": None if self.scope is None else self.scope.value,
            "in_total": self.in_total,
            "co2e_t": self.co2e_t,
            "gases": dict(self.gases_t),
            "trace": trace,
        }


@dataclass(frozen=True)
class Calculation:
    """All sources of a run under one GWP set, and their totals.

    ``total_co2e_t`` is the sum of the sources :func:`~tansuan.domain.scope.in_total`
    counts: Scope 1, location-based Scope 2 and Scope 3. Market-based Scope 2 is
    reported beside it in ``by_scope_co2e_t`` (``"2-market"``), never added to it
    (GHG Protocol Scope 2 Guidance (2015) ch. 4, dual reporting).
    """

    gwp_set: str
    year: int | None
    region: str | None
    sources: tuple[SourceOutcome, ...]
    total_co2e_t: float
    by_scope_co2e_t: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """``{"total_co2e_t", "by_scope_co2e_t", "sources": [{"id", "method", "scope",
        "in_total", "co2e_t", "gases", "trace"}]}``."""
        return {
            "total_co2e_t": self.total_co2e_t,
            "by_scope_co2e_t": dict(self.by_scope_co2e_t),
            "sources": [s.as_dict() for s in self.sources],
        }


def calculate(ctx: Context, sources: Iterable[tuple[str, SourceInputs]]) -> Calculation:
    """Run every source (id, inputs) in order; ids must be unique.

    ``sources`` may be a generator: each source is computed before the next is read, so
    the first error of a document is the one reported. The total counts the sources
    :func:`~tansuan.domain.scope.in_total` counts; each scope is summed on its own.
    """
    counted = Inventory(ctx.gwp.name)  # what the total adds
    beside = Inventory(ctx.gwp.name)  # market-based Scope 2, reported beside
    outcomes: list[SourceOutcome] = []
    by_scope: dict[str, float] = {}
    seen: set[str] = set()
    for index, (source_id, inputs) in enumerate(sources):
        path = f"sources[{index}]"
        if source_id in seen:
            raise InputError(f"duplicate source id {source_id!r}", field=f"{path}.id")
        seen.add(source_id)
        result = compute(ctx, inputs, path=path)
        scope = scope_of(inputs, result)
        if isinstance(result, EmissionResult) and scope is not None:
            (counted if in_total(scope) else beside).add(result, field=path)
            by_scope[scope.value] = by_scope.get(scope.value, 0.0) + result.co2e_t
        outcomes.append(SourceOutcome(source_id, inputs.method, result, scope))
    return Calculation(
        gwp_set=ctx.gwp.name,
        year=ctx.year,
        region=ctx.region,
        sources=tuple(outcomes),
        total_co2e_t=counted.total_co2e_t,
        by_scope_co2e_t={s.value: by_scope[s.value] for s in Scope if s.value in by_scope},
    )
