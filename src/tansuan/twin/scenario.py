"""What-if: run the twin forward with a change and compare with the baseline.

Both runs simulate the same days with the same seed (so weather and noise are the
same); only the change differs. Energy and emissions are then computed by the same
domain methods as ``tansuan calc`` (the method dispatch,
:func:`tansuan.accounting.dispatch.calculate`) from the simulated activity data, passed
as typed quantities, with every factor from the shipped tables:

* fans: scheduled remote control (the shipyard case) and/or a VFD on every fan with
  temperature-led speed control (power ∝ speed³);
* fuel switch: the boilers' heat demand is kept and met with another fuel
  (amount = heat / NCV of the new fuel, in that fuel's unit);
* green power: that share of purchased electricity is covered by green-power
  contracts and counted at zero; the rest at the grid factor (location-based);
* production: activity-driven loads (compressed air, welding, boiler steam, kilns)
  scale with output.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np

from tansuan import clock
from tansuan.accounting.dispatch import calculate
from tansuan.accounting.method_inputs import (
    Carrier,
    CombustionInputs,
    Context,
    ElectricityInputs,
    EnergyInputs,
    Measure,
    ProcessInputs,
    SourceInputs,
)
from tansuan.domain.catalog import FactorCatalog, shipped_catalog
from tansuan.domain.gases import gwp_set
from tansuan.domain.scope import Scope
from tansuan.errors import InputError, UnknownFactor
from tansuan.twin import demo
from tansuan.twin.calendar import local_days
from tansuan.twin.plant import Plant, TwinSpec

#: Simulation step of a scenario run [s]: a quarter-hour is enough for energy totals.
STEP_S = 900


@dataclass(frozen=True)
class Change:
    fan_schedule: bool = False
    vfd_retrofit: bool = False
    fuel: str | None = None
    green_share: float = 0.0
    production: float = 1.0

    def label(self, lang: str | None = None) -> str:
        """What changes, bilingual (the CLI) or in one language (``zh-CN`` or ``en``)."""
        parts = []
        if self.fan_schedule:
            parts.append(("风机定时控制", "fan schedule"))
        if self.vfd_retrofit:
            parts.append(("变频改造", "VFD retrofit"))
        if self.fuel:
            parts.append((f"燃料 → {self.fuel}", f"fuel → {self.fuel}"))
        if self.green_share:
            parts.append((f"绿电 {self.green_share:.0%}", f"green {self.green_share:.0%}"))
        if self.production != 1.0:
            parts.append((f"产量 ×{self.production:g}", f"production ×{self.production:g}"))
        return ", ".join(_in(zh, en, lang) for zh, en in parts) or _in("无变化", "no change", lang)


@dataclass(frozen=True)
class Prices:
    electricity_cny_per_kwh: float = 0.72
    fuel_cny_per_t: float = 6500.0
    new_fuel_cny_per_unit: float = 6500.0
    carbon_cny_per_t: float = 90.0


@dataclass(frozen=True)
class Outcome:
    electricity_mwh: float
    fuel: dict[str, tuple[float, str]]  # fuel key -> (amount, unit)
    energy_tce: float
    scope1_t: float
    scope2_t: float
    cost_cny: float

    @property
    def co2e_t(self) -> float:
        return self.scope1_t + self.scope2_t


@dataclass(frozen=True)
class Comparison:
    baseline: Outcome
    scenario: Outcome

    def rows(self, lang: str | None = None) -> list[tuple[str, float, float]]:
        """(metric, baseline, scenario); the metric bilingual (the CLI) or in ``lang``."""
        b, s = self.baseline, self.scenario
        return [
            (_in("电力 MWh", "electricity MWh", lang), b.electricity_mwh, s.electricity_mwh),
            (_in("综合能耗 tce", "energy tce", lang), b.energy_tce, s.energy_tce),
            (_in("范围一 tCO2e", "scope 1 tCO2e", lang), b.scope1_t, s.scope1_t),
            (_in("范围二 tCO2e", "scope 2 tCO2e", lang), b.scope2_t, s.scope2_t),
            (_in("合计 tCO2e", "total tCO2e", lang), b.co2e_t, s.co2e_t),
            (_in("成本 CNY", "cost CNY", lang), b.cost_cny, s.cost_cny),
        ]


def _in(zh: str, en: str, lang: str | None) -> str:
    """``zh`` for zh-CN, ``en`` for en, both (``"zh / en"``) when no language is given."""
    if lang == "zh-CN":
        return zh
    if lang == "en":
        return en
    return f"{zh} / {en}"


@dataclass
class _Activity:
    site_kwh: float = 0.0
    fuel_t: dict[str, float] = dataclasses.field(default_factory=dict)  # boiler -> t
    clinker_t: float = 0.0


def simulate(plant: Plant, days: list[dt.date]) -> _Activity:
    """Totals of a run (electricity at the site meter, fuel per boiler, clinker)."""
    out = _Activity()
    for day in days:
        _, totals = plant.day(day, step_s=STEP_S)
        out.site_kwh += totals.site_kwh
        for boiler, t in totals.fuel_t.items():
            out.fuel_t[boiler] = out.fuel_t.get(boiler, 0.0) + t
        out.clinker_t += totals.clinker_t
    return out


def _grid_year(catalog: FactorCatalog, year: int) -> int:
    """The latest year ≤ ``year`` with a national ETS grid factor in the tables."""
    for candidate in range(year, year - 10, -1):
        try:
            catalog.lookup("grid_electricity", "electricity", on=dt.date(candidate, 6, 30))
            return candidate
        except UnknownFactor:
            continue
    raise UnknownFactor("no grid emission factor in the reference tables for the last ten years")


def _outcome(
    plant: Plant,
    activity: _Activity,
    change: Change,
    prices: Prices,
    year: int,
    catalog: FactorCatalog,
) -> Outcome:
    sources: list[tuple[str, SourceInputs]] = []
    carriers: list[Carrier] = []
    fuel_amounts: dict[str, tuple[float, str]] = {}
    cost = 0.0
    for boiler_id, burnt_t in activity.fuel_t.items():
        fuel = plant.boilers[boiler_id].fuel
        key, amount, unit = fuel.key, burnt_t, "t"
        price = prices.fuel_cny_per_t
        if change.fuel and change.fuel != fuel.key:
            heat_gj = burnt_t * fuel.ncv_gj_per_t
            new_ncv = catalog.lookup("ncv", change.fuel)
            per = new_ncv.parameter("ncv").unit
            unit = per.split("/", 1)[1] if "/" in per else "t"
            key, amount = change.fuel, heat_gj / new_ncv.parameter("ncv", f"GJ/({unit})").value
            price = prices.new_fuel_cny_per_unit
        total, _ = fuel_amounts.get(key, (0.0, unit))
        fuel_amounts[key] = (total + amount, unit)
        cost += amount * price
    for key, (amount, unit) in fuel_amounts.items():
        sources.append((f"fuel-{key}", CombustionInputs(fuel=key, amount=Measure(amount, unit))))
        ncv = catalog.lookup("ncv", key).parameter("ncv")
        carriers.append(
            Carrier(key, amount=Measure(amount, unit), ncv=Measure(ncv.value, ncv.unit))
        )
    if activity.clinker_t:
        kiln = next(d for _, d in plant.devices if d.device_class == "kiln")
        tags = dict(t.partition(":")[::2] for t in kiln.tags)
        clinker = ProcessInputs(
            material="clinker",
            amount=Measure(activity.clinker_t, "t"),
            cao=Measure(float(tags.get("cao", 0.65))),
            mgo=Measure(float(tags.get("mgo", 0.02))),
        )
        sources.append(("clinker", clinker))
    mwh = activity.site_kwh / 1000.0
    if mwh:
        grid = ElectricityInputs(amount=Measure(mwh * (1 - change.green_share), "MWh"))
        sources.append(("grid", grid))
        carriers.append(Carrier("electricity", amount=Measure(mwh, "MWh")))
        cost += activity.site_kwh * prices.electricity_cny_per_kwh
    if carriers:
        sources.append(("energy", EnergyInputs(carriers=tuple(carriers))))
    context = Context(
        catalog=catalog,
        gwp=gwp_set("AR5"),
        year=year,
        on=dt.date(year, 1, 1),
        region=plant.site.grid_region,
    )
    calc = calculate(context, sources)
    scope1 = sum(o.co2e_t for o in calc.sources if o.scope == Scope.DIRECT)
    scope2 = sum(o.co2e_t for o in calc.sources if o.scope == Scope.LOCATION)
    tce = 0.0
    for o in calc.sources:
        if o.method == "energy":
            tce += float(getattr(o.result, "energy_tce", 0.0))
    cost += (scope1 + scope2) * prices.carbon_cny_per_t
    return Outcome(mwh, fuel_amounts, tce, scope1, scope2, cost)


def compare(
    site_name: str,
    change: Change,
    prices: Prices = Prices(),
    *,
    days: int = 365,
    seed: int = 7,
    end: dt.date | None = None,
    catalog: FactorCatalog | None = None,
) -> Comparison:
    """Baseline and scenario over ``days`` days ending ``end`` (default yesterday)."""
    if not 0.0 <= change.green_share <= 1.0:
        raise InputError("green share must be between 0 and 1", field="green_share")
    catalog = catalog or shipped_catalog()
    end = end or clock.today() - dt.timedelta(days=1)
    span = local_days(end - dt.timedelta(days=days - 1), end + dt.timedelta(days=1))
    site = demo.site(site_name)
    base_spec = dataclasses.replace(demo.spec(site_name, seed=seed, end=end), intervention=None)
    new_spec: TwinSpec = dataclasses.replace(
        base_spec,
        intervention=span[0] if change.fan_schedule else None,
        speed_control=change.vfd_retrofit,
        production_factor=change.production,
    )
    baseline = Plant(site, base_spec, catalog=catalog)
    scenario = Plant(site, new_spec, catalog=catalog)
    if change.vfd_retrofit:
        scenario.fans = dataclasses.replace(scenario.fans, vfd=np.ones(scenario.fans.n, dtype=bool))
    if change.fuel:
        catalog.lookup("ncv", change.fuel)  # an unknown fuel fails here, by name
    year = _grid_year(catalog, end.year)
    return Comparison(
        _outcome(baseline, simulate(baseline, span), Change(), prices, year, catalog),
        _outcome(scenario, simulate(scenario, span), change, prices, year, catalog),
    )
