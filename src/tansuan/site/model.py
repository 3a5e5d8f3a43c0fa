"""The declarative site model: organisation → company → site → area/line → device → point.

A plant is described in YAML and validated here. The model is the contract every
other part reads: ingest takes a point's canonical unit and kind from it, gateways
take their addresses (HJ 212 MN/password and pollutant codes, Modbus registers,
OPC UA node ids) from it, accounting takes its emission sources from it.

Identifiers are short slugs. Device, point, source, series and connection ids are
unique *within a site*; a reading is addressed by ``(site id, point id)``.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tansuan.domain import sectors, units
from tansuan.domain.gases import GWP_SETS
from tansuan.errors import NotFound

SLUG = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
Slug = Annotated[str, Field(pattern=SLUG)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PointKind(StrEnum):
    """How a point's values behave (Home Assistant's meter classes).

    ``instantaneous``: a measurement at an instant (kW, °C, mg/m3).
    ``total``: an amount per interval that can go up and down (kWh in this interval).
    ``total_increasing``: a cumulative register that only grows, except at a reset
    or rollover (a meter's kWh counter).
    """

    instantaneous = "instantaneous"
    total = "total"
    total_increasing = "total_increasing"


class ModbusAddress(_Model):
    connection: Slug
    register_address: int = Field(alias="register", ge=0, le=65535)
    function: Literal["holding", "input"] = "holding"
    data_type: Literal["int16", "uint16", "int32", "uint32", "float32", "float64"] = "float32"
    word_order: Literal["big", "little"] = "big"
    byte_order: Literal["big", "little"] = "big"
    scale: float = 1.0
    offset: float = 0.0


class OpcUaAddress(_Model):
    connection: Slug
    node: str = Field(min_length=1, description="OPC UA node id, e.g. 'ns=2;s=Boiler.FuelFlow'")
    sampling_ms: int = Field(default=1000, ge=10)


class Hj212Address(_Model):
    connection: Slug
    code: str = Field(pattern=r"^[a-zA-Z0-9]{2,12}$", description="pollutant code, e.g. a05001")
    field: Literal["Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "RS", "RT"] = "Avg"


class MqttAddress(_Model):
    topic: str = Field(min_length=1)


class ProtocolAddresses(_Model):
    modbus: ModbusAddress | None = None
    opcua: OpcUaAddress | None = None
    hj212: Hj212Address | None = None
    mqtt: MqttAddress | None = None


class Point(_Model):
    """One measured quantity of a device, stored in its canonical ``unit``."""

    id: Slug
    name: str | None = None
    quantity: str = Field(min_length=1, description="what is measured: power, energy, flow, …")
    unit: str = Field(description="canonical unit; readings are converted to it at ingest")
    kind: PointKind = PointKind.instantaneous
    interval_s: int = Field(default=60, gt=0, description="expected seconds between readings")
    valid_range: tuple[float, float] | None = Field(
        default=None, description="[min, max] in the canonical unit"
    )
    rollover: float | None = Field(
        default=None,
        gt=0,
        description=(
            "wrap modulus of a counter: the value at which the register returns to 0 "
            "(2^32 × scale for a uint32 register; 100000000 for an 8-digit kWh meter)"
        ),
    )
    max_per_hour: float | None = Field(
        default=None,
        gt=0,
        description=(
            "plausibility limit of a counter: the largest credible increase per hour [unit]; "
            "default: the device's rated_power_kw for an energy counter"
        ),
    )
    protocol: ProtocolAddresses = ProtocolAddresses()

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        units.unit(value)  # raises UnitError (a ValueError) with the unit named
        return value

    @model_validator(mode="after")
    def _range_ordered(self) -> Point:
        if self.valid_range and self.valid_range[0] > self.valid_range[1]:
            raise ValueError("valid_range must be [min, max] with min <= max")
        return self


class Device(_Model):
    id: Slug
    name: str | None = None
    device_class: str = Field(alias="class", description="fan, pump, compressor, boiler, meter, …")
    rated_power_kw: float | None = Field(default=None, ge=0)
    commissioned: dt.date | None = None
    tags: tuple[str, ...] = ()
    points: tuple[Point, ...] = ()


class Area(_Model):
    """A workshop, building or production line; areas nest (workshop → line)."""

    id: Slug
    name: str | None = None
    kind: Literal["area", "workshop", "line", "building", "unit"] = "area"
    areas: tuple[Area, ...] = ()
    devices: tuple[Device, ...] = ()


class Connection(_Model):
    """A device the gateways talk to: an HJ 212 logger, a Modbus server, an OPC UA server."""

    id: Slug
    protocol: Literal["hj212", "modbus", "opcua", "mqtt", "http"]
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255, description="Modbus unit (slave) id")
    endpoint: str | None = Field(default=None, description="OPC UA endpoint URL")
    mn: str | None = Field(default=None, description="HJ 212 data-logger MN")
    password: str | None = Field(
        default=None,
        description="HJ 212 PW (the standard's 6 characters, or the up to 64 a logger sends)",
    )
    poll_interval_s: float = Field(default=60, gt=0)
    timeout_s: float = Field(default=3, gt=0)

    @model_validator(mode="after")
    def _protocol_fields(self) -> Connection:
        needed = {
            "hj212": ("mn", "password"),
            "modbus": ("host", "port"),
            "opcua": ("endpoint",),
        }.get(self.protocol, ())
        missing = [name for name in needed if getattr(self, name) in (None, "")]
        if missing:
            raise ValueError(f"a {self.protocol} connection needs {', '.join(missing)}")
        return self


class SeriesKind(StrEnum):
    """Manually entered data: invoices, stock changes, lab analyses, production."""

    fuel_purchase = "fuel_purchase"
    fuel_consumption = "fuel_consumption"
    stock_change = "stock_change"
    lab_ncv = "lab_ncv"
    lab_carbon_content = "lab_carbon_content"
    lab_carbon_per_heat = "lab_carbon_per_heat"
    production = "production"
    production_plan = "production_plan"  #: planned output per month (forecast driver)
    electricity_purchase = "electricity_purchase"
    heat_purchase = "heat_purchase"
    green_certificate = "green_certificate"
    other = "other"


class Series(_Model):
    """A manual data series (monthly invoices, lab results, production output)."""

    id: Slug
    name: str | None = None
    kind: SeriesKind
    unit: str
    fuel: str | None = None

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        units.unit(value)
        return value


class DataRef(_Model):
    """Where a quantity comes from: a point (meter), a manual series, or a fixed value."""

    point: Slug | None = None
    series: Slug | None = None
    value: str | float | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DataRef:
        given = [name for name in ("point", "series", "value") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of point, series or value")
        return self


class GapFill(StrEnum):
    """How missing data in a source's inputs are filled."""

    none = "none"
    default = "default"
    interpolate = "interpolate"
    previous_average = "previous_average"
    cems_conservative = "cems_conservative"


class Active(_Model):
    """The days a source operates: ``from`` (first local day) to ``to`` (last, inclusive).

    Months entirely outside are ``inactive`` (neither missing nor zero); either end may be
    open (commissioned before the data, or not decommissioned).
    """

    from_: dt.date | None = Field(default=None, alias="from", description="first day")
    to: dt.date | None = Field(default=None, description="last day (inclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> Active:
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise ValueError(f"active.to {self.to} is before active.from {self.from_}")
        return self

    def covers(self, day: dt.date) -> bool:
        """Whether the source operates on local day ``day``."""
        return (self.from_ is None or day >= self.from_) and (self.to is None or day <= self.to)


#: The numeric parameters a source may give as first-class site-model fields (each also
#: accepted in the older form ``parameters: {name: {value: …}}``). The unit each is read
#: in when written as a bare number is the one its method expects (docs/accounting.md,
#: "Factor chain"); ``"98 %"``, ``"20.9 GJ/t"`` and the like are converted.
PARAMETER_FIELDS: dict[str, str] = {
    "ncv": "net calorific value [GJ/t, or GJ/10^4 Nm3 for gases]",
    "carbon_content": "carbon content per unit of fuel [tC/t, or tC/10^4 Nm3]",
    "carbon_content_per_heat": "carbon content per unit of heat [tC/GJ]",
    "oxidation": "carbon oxidation rate [fraction, 0 < OF <= 1; '98 %' accepted]",
    "co2_factor": "CO2 emission factor per unit of energy [tCO2/TJ]",
    "density": "density of a liquid fuel given by volume [t/m3]",
    "ch4_factor": "plant-specific CH4 emission factor [kg/TJ]",
    "n2o_factor": "plant-specific N2O emission factor [kg/TJ]",
    "factor": "emission factor of the method: grid [tCO2/MWh], heat [tCO2/GJ], process [tCO2/t]",
    "residual_factor": "market-based residual-mix factor [tCO2/MWh]",
    "carbonate_fraction": "carbonate fraction of an FGD sorbent [fraction]",
    "conversion": "conversion rate of an FGD sorbent [fraction]",
}
#: Site-model text fields and the ``parameters:`` key each replaces.
TEXT_FIELDS: dict[str, str] = {"factor_series": "series", "ch4_n2o_category": "ch4_n2o"}

ParameterValue = float | str


class EmissionSource(_Model):
    """An emission source: which method, fed by which points or series, with what parameters.

    Parameters follow the factor chain (docs/accounting.md): a measured value named in
    ``parameters:`` (a series or point) for the month → the source's own value
    (``oxidation: 0.98``) → the default of the factor series its site's ``sector:`` (or
    its own ``factor_series:``) chooses → an error naming what to give.
    """

    id: Slug
    name: str | None = None
    method: Literal[
        "combustion",
        "electricity",
        "heat",
        "process",
        "mass_balance",
        "cems",
        "refrigerant",
        "direct",
    ]
    scope: Literal[1, 2, 3] = 1
    device: Slug | None = Field(default=None, description="device the source belongs to")
    fuel: str | None = None
    material: str | None = None
    activity: tuple[DataRef, ...] = Field(default=(), description="activity data, summed")
    parameters: dict[str, DataRef] = Field(default_factory=dict)
    monthly: bool = Field(default=False, description="compute month by month and sum")
    gap_fill: GapFill = GapFill.none
    cross_check: Slug | None = Field(default=None, description="id of a CEMS source to compare")
    active: Active | None = Field(
        default=None, description="operating period {from, to}; months outside are inactive"
    )
    factor_series: str | None = Field(
        default=None,
        description="factor series of the defaults (mee_2013, mee_power; grid or heat series "
        "for electricity and heat); overrides the site's sector",
    )
    ch4_n2o: bool = Field(default=False, description="also account CH4 and N2O (combustion)")
    ch4_n2o_category: str | None = Field(
        default=None,
        description="IPCC category of the CH4/N2O defaults: energy_industries or "
        "manufacturing; overrides the site's sector",
    )
    ncv: ParameterValue | None = Field(default=None, description=PARAMETER_FIELDS["ncv"])
    carbon_content: ParameterValue | None = Field(
        default=None, description=PARAMETER_FIELDS["carbon_content"]
    )
    carbon_content_per_heat: ParameterValue | None = Field(
        default=None, description=PARAMETER_FIELDS["carbon_content_per_heat"]
    )
    oxidation: ParameterValue | None = Field(
        default=None, description=PARAMETER_FIELDS["oxidation"]
    )
    co2_factor: ParameterValue | None = Field(
        default=None, description=PARAMETER_FIELDS["co2_factor"]
    )
    density: ParameterValue | None = Field(default=None, description=PARAMETER_FIELDS["density"])
    ch4_factor: ParameterValue | None = Field(
        default=None, description=PARAMETER_FIELDS["ch4_factor"]
    )
    n2o_factor: ParameterValue | None = Field(
        default=None, description=PARAMETER_FIELDS["n2o_factor"]
    )
    factor: ParameterValue | None = Field(default=None, description=PARAMETER_FIELDS["factor"])
    residual_factor: ParameterValue | None = Field(
        default=None, description=PARAMETER_FIELDS["residual_factor"]
    )
    carbonate_fraction: ParameterValue | None = Field(
        default=None, description=PARAMETER_FIELDS["carbonate_fraction"]
    )
    conversion: ParameterValue | None = Field(
        default=None, description=PARAMETER_FIELDS["conversion"]
    )

    @model_validator(mode="after")
    def _needs(self) -> EmissionSource:
        if self.method == "combustion" and not self.fuel:
            raise ValueError("a combustion source needs a fuel")
        if self.method == "process" and not self.material:
            raise ValueError("a process source needs a material")
        return self

    @model_validator(mode="after")
    def _one_site_value(self) -> EmissionSource:
        """Two site-model values of one parameter are ambiguous: refuse them."""
        pairs = [(name, name) for name in PARAMETER_FIELDS] + list(TEXT_FIELDS.items())
        for name, legacy in pairs:
            old = self.parameters.get(legacy)
            if getattr(self, name) is not None and old is not None and old.value is not None:
                raise ValueError(
                    f"{name} is given twice, as {name}: and as parameters.{legacy}.value; keep one"
                )
        return self

    def site_values(self) -> dict[str, ParameterValue]:
        """The source's own (site-model) parameter values by key, both forms merged."""
        out: dict[str, ParameterValue] = {
            name: ref.value for name, ref in self.parameters.items() if ref.value is not None
        }
        for name in PARAMETER_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name, key in TEXT_FIELDS.items():
            value = getattr(self, name)
            if value is not None:
                out[key] = value
        return out

    def measured_refs(self) -> dict[str, DataRef]:
        """The parameters read from measured data (a series or point), by key."""
        return {name: ref for name, ref in self.parameters.items() if ref.value is None}


class Location(_Model):
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = None


class Site(_Model):
    id: Slug
    name: str | None = None
    timezone: str = "Asia/Shanghai"
    location: Location = Location()
    grid_region: str | None = Field(default=None, description="grid region code, e.g. east")
    sector: str | None = Field(
        default=None,
        description="sector (data/sectors.csv: power, steel, cement, aluminium, chemicals, "
        "machinery, general): chooses the guideline whose default factors apply",
    )
    gwp: str | None = Field(
        default=None, description="GWP set of the site's results (SAR, AR4, AR5, AR6)"
    )
    areas: tuple[Area, ...] = ()
    connections: tuple[Connection, ...] = ()
    series: tuple[Series, ...] = ()
    sources: tuple[EmissionSource, ...] = ()
    energy_budget_tce: float | None = Field(
        default=None,
        gt=0,
        description="annual energy-consumption budget (能耗双控) [tce], for the energy report",
    )

    @field_validator("sector")
    @classmethod
    def _known_sector(cls, value: str | None) -> str | None:
        if value is not None and value not in sectors.sectors():
            raise ValueError(
                f"unknown sector {value!r}; choose one of {', '.join(sectors.sectors())}"
            )
        return value

    @field_validator("gwp")
    @classmethod
    def _known_gwp(cls, value: str | None) -> str | None:
        if value is not None and value.strip().upper() not in GWP_SETS:
            raise ValueError(f"unknown GWP set {value!r}; choose one of {', '.join(GWP_SETS)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def iter_devices(self) -> list[tuple[tuple[str, ...], Device]]:
        """Every device with the ids of the areas above it, depth first."""
        out: list[tuple[tuple[str, ...], Device]] = []

        def walk(areas: tuple[Area, ...], path: tuple[str, ...]) -> None:
            for area in areas:
                here = (*path, area.id)
                out.extend((here, device) for device in area.devices)
                walk(area.areas, here)

        walk(self.areas, ())
        return out

    def points(self) -> dict[str, tuple[Device, Point]]:
        """Points by id, with their device."""
        return {p.id: (d, p) for _, d in self.iter_devices() for p in d.points}


class Company(_Model):
    id: Slug
    name: str | None = None
    sites: tuple[Site, ...] = ()


class Organisation(_Model):
    """The top of the hierarchy: a group with its companies."""

    id: Slug
    name: str | None = None
    companies: tuple[Company, ...] = ()


class SiteModel(_Model):
    """One YAML document: an organisation and everything under it."""

    version: Literal[1] = 1
    organisation: Organisation

    def sites(self) -> list[Site]:
        return [site for company in self.organisation.companies for site in company.sites]

    def site(self, site_id: str) -> Site:
        for site in self.sites():
            if site.id == site_id:
                return site
        raise NotFound(f"no site {site_id!r} in organisation {self.organisation.id!r}")


_ID_RE = re.compile(SLUG)


def dump(model: SiteModel) -> dict[str, Any]:
    """The model as plain data (aliases used, so it round-trips through YAML)."""
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)
