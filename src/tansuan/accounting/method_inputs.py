"""The typed inputs of every accounting method: quantities with units, one class a method.

A source's inputs are small frozen dataclasses (:class:`CombustionInputs`,
:class:`ElectricityInputs`, …) whose fields are the keys a source of that method may
have; their quantities are :class:`Measure` values — the number and the unit it was
measured or written in — converted once, by the method dispatch (:mod:`.dispatch`), to
the unit the domain function expects. The accounting engine builds them from the store,
the activity-file reader (:mod:`.activity_file`) from a file's text, the what-if runs of
the twin from simulated totals.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, ClassVar

from tansuan.domain import units
from tansuan.domain.catalog import FactorCatalog
from tansuan.domain.gases import GwpSet
from tansuan.domain.result import Origin, Parameter
from tansuan.errors import InputError, TansuanError

#: Stock and flow terms of the refrigerant mass balance [t] (IPCC 2006 Vol. 3 Ch. 7).
REFRIGERANT_TERMS = (
    "inventory_start",
    "inventory_end",
    "purchased",
    "sold",
    "retired_charge",
    "new_charge",
)
#: The unit each hourly CEMS quantity is given in when no unit is written.
CEMS_UNITS = {
    "concentration": "mg/m**3",
    "flow": "m**3/h",
    "flue_temperature": "degC",
    "ambient_pressure": "Pa",
    "static_pressure": "Pa",
    "moisture": "dimensionless",
}


# -- typed inputs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """A number with the unit it was measured or written in.

    Attributes
    ----------
    value : the number [``unit``]
    unit : unit text understood by :mod:`tansuan.domain.units`; ``None`` for a bare
        number, which is taken to be in the unit the method expects
    origin : ``measured`` or ``supplier`` for a parameter the plant gives (activity data
        keep the default and are traced as ``input``)
    shown : the quantity as written in a file, for error messages only
    problem : why the text could not be read; raised when a method uses the value, so
        a key a method does not use in its branch (``cao`` of a limestone source) never
        fails a calculation, as when the methods read the text themselves
    """

    value: float
    unit: str | None = None
    origin: Origin = Origin.MEASURED
    shown: str = dataclasses.field(default="", compare=False)
    problem: TansuanError | None = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def unreadable(cls, problem: TansuanError) -> Measure:
        """A value whose text could not be read: using it raises ``problem``."""
        return cls(math.nan, None, problem=problem)

    def checked(self) -> Measure:
        """This measure, once it is known to be readable (else its problem is raised)."""
        if self.problem is not None:
            raise self.problem
        return self

    def to(self, unit: str, *, field: str) -> float:
        """The value in ``unit``; :class:`UnitError` naming ``field`` on a wrong dimension."""
        self.checked()
        if self.unit is None:
            return self.value
        return units.convert(self.value, self.unit, unit, field=field, shown=self.shown)

    @property
    def unit_text(self) -> str:
        """The unit as the registry writes it (``dimensionless`` for a bare number)."""
        return f"{units.unit(self.unit or 'dimensionless')}"


@dataclass(frozen=True)
class Hourly:
    """Hourly values of one CEMS quantity [``unit``], one per valid hour."""

    values: tuple[float, ...]
    unit: str


@dataclass(frozen=True)
class Contract:
    """A supplier contract of market-based Scope 2: energy [MWh] at a supplier factor."""

    amount: Measure | None
    factor: Measure


@dataclass(frozen=True)
class Stream:
    """A carbon-bearing stream of a mass balance: amount [t] and its carbon share."""

    amount: Measure | None
    carbon_fraction: Measure | None = None  #: [t C / t], a fraction
    carbon_content: Measure | None = None  #: [tC/t], when no fraction is given


@dataclass(frozen=True)
class Carrier:
    """An energy carrier of the comprehensive-energy method (GB/T 2589-2020)."""

    carrier: str | None
    amount: Measure | None
    coefficient: Measure | None = None  #: [tce per unit of amount], when given
    ncv: Measure | None = None  #: net calorific value, when given instead


@dataclass(frozen=True)
class CombustionInputs:
    """Fuel combustion: E = FC × NCV × CC × OF × 44/12, FC × C_ar × OF × 44/12, or
    AD × EF_CO2 × OF.

    MEE 发电设施 guideline (2022 rev.), NDRC 2013 sector guidelines (fuel combustion),
    IPCC 2006 Vol. 2 eq. 2.1, EU MRR Art. 24(1). ``amount`` is the fuel in the unit of its
    default NCV [t or 10^4 Nm3], or its energy [GJ, TJ, MWh, therm, MMBtu] (then no NCV),
    or a liquid's volume [m3, L] with its ``density`` [t/m3]; ``ncv`` [GJ/unit],
    ``carbon_content_per_heat`` [tC/GJ], ``carbon_content`` [tC/unit], ``co2_factor``
    [tCO2/TJ], ``oxidation`` [fraction] (1 by default with ``co2_factor``), plant-specific
    ``ch4_factor`` / ``n2o_factor`` [kg/TJ] over the ``ch4_n2o`` table's; left out, from
    the catalog.
    """

    method: ClassVar[str] = "combustion"
    fuel: str | None = None
    amount: Measure | None = None
    ncv: Measure | None = None
    carbon_content: Measure | None = None
    carbon_content_per_heat: Measure | None = None
    oxidation: Measure | None = None
    carbon_content_ad: Measure | None = None
    moisture_ar: Measure | None = None
    moisture_ad: Measure | None = None
    co2_factor: Measure | None = None
    density: Measure | None = None
    ch4_factor: Measure | None = None
    n2o_factor: Measure | None = None
    series: str | None = None
    region: str | None = None
    ch4_n2o: str | None = None


@dataclass(frozen=True)
class ElectricityInputs:
    """Purchased electricity [MWh], location- or market-based.

    GHG Protocol Scope 2 Guidance (2015) ch. 6–7: E = AD × EF_grid [tCO2/MWh]; with
    instruments (certificates, contracts) the market-based residual covers the rest.
    """

    method: ClassVar[str] = "electricity"
    amount: Measure | None = None
    factor: Measure | None = None
    series: str | None = None
    region: str | None = None
    basis: str | None = None
    green_certificates: Measure | None = None
    green_power_contracts: Measure | None = None
    contracts: tuple[Contract, ...] = ()
    residual_factor: Measure | None = None
    residual_series: str | None = None
    scope: Any = None  #: accepted and ignored (the scope of a file's source is 2)


@dataclass(frozen=True)
class HeatInputs:
    """Purchased heat: E = heat [GJ] × factor [tCO2/GJ] (NDRC 2013 sector guidelines)."""

    method: ClassVar[str] = "heat"
    amount: Measure | None = None
    factor: Measure | None = None
    series: str | None = None
    region: str | None = None
    scope: Any = None  #: accepted and ignored


@dataclass(frozen=True)
class ProcessInputs:
    """Process emissions [t material]: E = Σ AD × EF (steel guideline 2013), FGD
    sorbents E = B × I × EF × TR (power guideline 2013), or clinker by its CaO and MgO
    fractions (cement guideline 2013)."""

    method: ClassVar[str] = "process"
    material: str | None = None
    amount: Measure | None = None
    factor: Measure | None = None
    carbonate_fraction: Measure | None = None
    conversion: Measure | None = None
    cao: Measure | None = None
    mgo: Measure | None = None
    cao_non_carbonate: Measure | None = None
    mgo_non_carbonate: Measure | None = None


@dataclass(frozen=True)
class MassBalanceInputs:
    """Carbon mass balance [t]: E = (Σ inputs × C − Σ outputs × C) × 44/12 (chemical
    industry guideline 2013)."""

    method: ClassVar[str] = "mass_balance"
    inputs: tuple[Stream, ...] = ()
    outputs: tuple[Stream, ...] = ()


@dataclass(frozen=True)
class CemsInputs:
    """Continuous measurement: hourly CO2 concentration × flue-gas flow.

    HJ 212-2017 Appendix D eqs. (18), (19), (31), (33); an hour is valid by eq. (24).
    Values without a written unit are in :data:`CEMS_UNITS`.
    """

    method: ClassVar[str] = "cems"
    concentration: Hourly | None = None
    flow: Hourly | None = None
    basis: str | None = None
    state: str | None = None
    flow_state: str | None = None
    flue_temperature: Hourly | Measure | None = None
    ambient_pressure: Hourly | Measure | None = None
    static_pressure: Hourly | Measure | None = None
    moisture: Hourly | Measure | None = None
    valid_minutes: float | list[float] | None = None


@dataclass(frozen=True)
class RefrigerantInputs:
    """Refrigerant loss [t] by the simplified material balance of stock, purchases, sales
    and charges (US EPA Climate Leaders, Direct HFC and PFC Emissions (2008), eq. (1))."""

    method: ClassVar[str] = "refrigerant"
    refrigerant: str | None = None
    inventory_start: Measure | None = None
    inventory_end: Measure | None = None
    purchased: Measure | None = None
    sold: Measure | None = None
    retired_charge: Measure | None = None
    new_charge: Measure | None = None


@dataclass(frozen=True)
class DirectInputs:
    """Measured direct emissions of named gases [t each] (GHG Protocol Corporate Standard
    ch. 4)."""

    method: ClassVar[str] = "direct"
    gases: tuple[tuple[str, Measure | None], ...] = ()


@dataclass(frozen=True)
class EnergyInputs:
    """Comprehensive energy consumption [tce] (GB/T 2589-2020, coefficients from Appendix
    A); no emissions."""

    method: ClassVar[str] = "energy"
    carriers: tuple[Carrier, ...] = ()
    exported: tuple[Carrier, ...] = ()
    output: Measure | None = None


SourceInputs = (
    CombustionInputs
    | ElectricityInputs
    | HeatInputs
    | ProcessInputs
    | MassBalanceInputs
    | CemsInputs
    | RefrigerantInputs
    | DirectInputs
    | EnergyInputs
)

#: Method name → its inputs class; the class's fields are the keys a source may have.
METHODS: dict[str, type[SourceInputs]] = {
    cls.method: cls
    for cls in (
        CombustionInputs,
        ElectricityInputs,
        HeatInputs,
        ProcessInputs,
        MassBalanceInputs,
        CemsInputs,
        RefrigerantInputs,
        DirectInputs,
        EnergyInputs,
    )
}


class Kind(Enum):
    """What a source key holds, for readers of text and for checking typed values."""

    TEXT = "text"
    QUANTITY = "quantity"  #: activity data or a property, origin input
    PARAMETER = "parameter"  #: a plant value that overrides the catalog default
    HOURLY = "hourly"
    OWN_UNIT = "own_unit"  #: a quantity kept in the unit it is written in
    CONTRACTS = "contracts"
    STREAMS = "streams"
    GASES = "gases"
    CARRIERS = "carriers"
    AS_GIVEN = "as_given"  #: passed to the domain as it is (valid_minutes, scope)


#: The kind of every key any method reads.
KINDS: dict[str, Kind] = {
    **dict.fromkeys(
        (
            "fuel",
            "material",
            "refrigerant",
            "series",
            "region",
            "ch4_n2o",
            "basis",
            "residual_series",
            "state",
            "flow_state",
        ),
        Kind.TEXT,
    ),
    **dict.fromkeys(
        (
            "amount",
            "carbon_content_ad",
            "moisture_ar",
            "moisture_ad",
            "green_certificates",
            "green_power_contracts",
            "cao",
            "mgo",
            "cao_non_carbonate",
            "mgo_non_carbonate",
            *REFRIGERANT_TERMS,
        ),
        Kind.QUANTITY,
    ),
    **dict.fromkeys(
        (
            "ncv",
            "carbon_content",
            "carbon_content_per_heat",
            "oxidation",
            "factor",
            "residual_factor",
            "carbonate_fraction",
            "conversion",
            "co2_factor",
            "density",
            "ch4_factor",
            "n2o_factor",
        ),
        Kind.PARAMETER,
    ),
    **dict.fromkeys(CEMS_UNITS, Kind.HOURLY),
    "output": Kind.OWN_UNIT,
    "contracts": Kind.CONTRACTS,
    "inputs": Kind.STREAMS,
    "outputs": Kind.STREAMS,
    "gases": Kind.GASES,
    "carriers": Kind.CARRIERS,
    "exported": Kind.CARRIERS,
    "valid_minutes": Kind.AS_GIVEN,
    "scope": Kind.AS_GIVEN,
}

#: The keys each method reads: its inputs class's fields.
_KEYS = {name: frozenset(f.name for f in dataclasses.fields(cls)) for name, cls in METHODS.items()}
_ACCEPTS: dict[Kind, tuple[type, ...]] = {
    Kind.TEXT: (str,),
    Kind.QUANTITY: (Measure,),
    Kind.PARAMETER: (Measure,),
    Kind.OWN_UNIT: (Measure,),
    Kind.HOURLY: (Hourly, Measure),
    Kind.CONTRACTS: (tuple,),
    Kind.STREAMS: (tuple,),
    Kind.GASES: (tuple,),
    Kind.CARRIERS: (tuple,),
    Kind.AS_GIVEN: (object,),
}


def check_keys(method: str, keys: Iterable[str], *, path: str) -> type[SourceInputs]:
    """The inputs class of ``method``, once every key is one the method reads.

    Raises
    ------
    InputError
        an unknown method (field ``<path>.method``) or a key the method does not read
        (named, at ``<path>.<key>``).
    """
    cls = METHODS.get(method)
    if cls is None:
        raise InputError(
            f"unknown method {method!r}; choose one of {', '.join(METHODS)}",
            field=f"{path}.method",
        )
    extra = sorted(set(keys) - _KEYS[method])
    if extra:
        raise InputError(
            f"unknown key(s) {', '.join(extra)} for method {method}",
            field=f"{path}.{extra[0]}",
        )
    return cls


def source_inputs(method: str, values: Mapping[str, object], *, path: str) -> SourceInputs:
    """The typed inputs of a ``method`` source from its typed values by key.

    Raises
    ------
    InputError
        an unknown method or key (:func:`check_keys`), or a value of the wrong type for
        its key (a measured quantity where text is expected, …).
    """
    cls = check_keys(method, values, path=path)
    for key, value in values.items():
        if value is not None and not isinstance(value, _ACCEPTS[KINDS[key]]):
            raise InputError(
                f"{key} takes a {KINDS[key].value} value, not {type(value).__name__}",
                field=f"{path}.{key}",
            )
    return cls(**values)  # type: ignore[arg-type]


# -- what every source needs ----------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every source of a run needs: the catalog, the GWP set, the date and region.

    Attributes
    ----------
    catalog : the factor catalog defaults are taken from
    gwp : the GWP set every result is expressed in
    year : the reporting year, if any
    on : the date dated factors are looked up for (1 January of ``year``, or the month)
    region : the grid region, for regional factors
    grid_series : the grid-factor series for location-based electricity, if not the default
    """

    catalog: FactorCatalog
    gwp: GwpSet
    year: int | None = None
    on: date | None = None
    region: str | None = None
    grid_series: str | None = None

    def co2_per_c(self) -> Parameter:
        """The CO2/C mass ratio 44/12 [tCO2/tC], from the catalog."""
        return self.catalog.constant("ratio", "co2_per_c", unit="tCO2/tC")
