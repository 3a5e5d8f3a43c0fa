"""The plant simulator: a site model's devices driven day by day, vectorised.

Which physics a device gets is read from the site model: its ``class`` (fan, pump,
compressor, welder, motor, boiler, kiln, generator, cems, meter) and its ``tags``
(``vfd``, ``cooling``, ``ventilation`` and ``key:value`` parameters such as
``fuel_t_h:1.6``, ``flue_nm3_per_kg:13.5``, ``stack-of:boiler-1``, ``feeds:hull-shop``).
Points are found by the suffix after the device id (``fan-001.power``,
``stack-1.co2``) and values are converted to each point's canonical unit.

The simulation runs on a base step (the smallest point interval, or the caller's step)
and each point is sampled at its own interval. Cumulative registers and monthly
totals are the plant's state, so days must be generated in order.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from tansuan.domain import units
from tansuan.domain.catalog import FactorCatalog, shipped_catalog
from tansuan.errors import ConfigError
from tansuan.site.model import Device, Point, Site
from tansuan.twin import weather
from tansuan.twin.analyser import Analyser
from tansuan.twin.boiler import Boiler, Fuel
from tansuan.twin.calendar import F64, DayGrid, ShiftCalendar, day_grid, day_rng
from tansuan.twin.compressor import Compressor
from tansuan.twin.fans import FanBank
from tansuan.twin.faults import Fault
from tansuan.twin.frame import Frame
from tansuan.twin.meter import register

#: Internal unit of each point suffix; values are converted to the point's unit.
SUFFIX_UNITS = {
    "power": "kW",
    "energy": "kWh",
    "fuel": "t/h",
    "clinker": "t/h",
    "co2": "mg/m**3",
    "flow": "m**3/h",
    "o2": "percent",
    "so2": "mg/m**3",
    "nox": "mg/m**3",
    "dust": "mg/m**3",
    "temp": "degC",
    "speed": "percent",
}
ELECTRICAL = frozenset({"fan", "pump", "compressor", "welder", "motor", "mill"})


@dataclass(frozen=True)
class TwinSpec:
    """What the site model does not say: the seed, the calendar, the intervention.

    Attributes
    ----------
    seed : makes a run reproducible
    calendar : the plant's shifts and holidays
    intervention : first local day of scheduled remote fan control (None: never)
    base_load_kw : load on the site meter besides the modelled devices [kW]
    production_t_per_shift_h : output per hour at full activity [t/h]
    production_series : the manual series production totals go to
    """

    seed: int = 7
    calendar: ShiftCalendar = ShiftCalendar()
    intervention: dt.date | None = None
    base_load_kw: float = 0.0
    production_t_per_shift_h: float = 0.0
    production_series: str | None = None
    continuous: bool = False  #: a process plant: runs around the clock at high load
    speed_control: bool = False  #: VFD fans follow temperature even without the schedule
    production_factor: float = 1.0  #: output relative to the plant's usual
    #: An air leak: (compressor id, first local day, extra loaded share 0…1) — a
    #: degradation for the findings to date.
    leak: tuple[str, dt.date, float] | None = None


def tag_values(device: Device) -> dict[str, str]:
    """``key:value`` tags as a dict; plain tags map to ``""``."""
    out: dict[str, str] = {}
    for tag in device.tags:
        key, _, value = tag.partition(":")
        out[key] = value
    return out


def _number(device: Device, key: str, default: float) -> float:
    raw = tag_values(device).get(key)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"device {device.id}: tag {key}:{raw} is not a number") from None


@dataclass
class _Points:
    """A device's points by suffix."""

    by_suffix: dict[str, Point] = field(default_factory=dict)

    @classmethod
    def of(cls, device: Device) -> _Points:
        out = cls()
        for point in device.points:
            suffix = point.id.removeprefix(device.id + ".").rsplit(".", 1)[-1]
            out.by_suffix[suffix] = point
        return out


@dataclass
class DayTotals:
    """True totals of one day, for manual series and checks."""

    fuel_t: dict[str, float] = field(default_factory=dict)  # boiler id -> t
    co2_t: dict[str, float] = field(default_factory=dict)  # boiler id -> t (true)
    electricity_kwh: dict[str, float] = field(default_factory=dict)  # device id -> kWh
    generated_kwh: dict[str, float] = field(default_factory=dict)  # generator id -> kWh
    production_t: float = 0.0
    clinker_t: float = 0.0
    site_kwh: float = 0.0  #: energy through the site (grid) meter


class Plant:
    """A site's twin. Call :meth:`day` for consecutive local days."""

    def __init__(self, site: Site, spec: TwinSpec, *, catalog: FactorCatalog | None = None) -> None:
        self.site = site
        self.spec = spec
        self.catalog = catalog or shipped_catalog()
        self.tz = site.timezone
        self.devices = [(path, d) for path, d in site.iter_devices()]
        self.points = {d.id: _Points.of(d) for _, d in self.devices}
        fans = [d for _, d in self.devices if d.device_class in ("fan", "pump")]
        self.fan_ids = [d.id for d in fans]
        self.fans = FanBank(
            rated_kw=np.array([d.rated_power_kw or 0.0 for d in fans]),
            load_factor=np.array([_number(d, "load_factor", 0.8) for d in fans]),
            motor_efficiency=np.array([_number(d, "motor_efficiency", 0.86) for d in fans]),
            vfd=np.array(["vfd" in tag_values(d) for d in fans], dtype=bool),
        )
        self.cooling = np.array(["cooling" in tag_values(d) for d in fans], dtype=bool)
        self.boilers: dict[str, Boiler] = {}
        for _, d in self.devices:
            if d.device_class in ("boiler", "kiln"):
                fuel_key = tag_values(d).get("fuel", "")
                if not fuel_key:
                    raise ConfigError(f"device {d.id}: a {d.device_class} needs a fuel:KEY tag")
                self.boilers[d.id] = Boiler(
                    Fuel.from_catalog(self.catalog, fuel_key),
                    max_fuel_t_h=_number(d, "fuel_t_h", 1.0),
                    flue_nm3_per_kg=_number(d, "flue_nm3_per_kg", 12.0),
                    excess_air=_number(d, "excess_air", 1.25),
                    process_co2_t_h=self._calcination_t_h(d),
                )
        self.analyser = Analyser()
        self.flow_analyser = Analyser(stated_error=0.03, noise=0.004)
        self.registers: dict[str, float] = {}
        for _, d in self.devices:
            for suffix, point in self.points[d.id].by_suffix.items():
                if suffix == "energy":
                    rng = np.random.default_rng([spec.seed, zlib.crc32(point.id.encode())])
                    self.registers[point.id] = float(rng.uniform(1e5, 5e6))
        self.resets: list[Fault] = []
        self._site_kwh = 0.0
        #: Points an emission source reads: a thinned history keeps their interval, so
        #: the accounting's coverage and hour validity are those of the real plant.
        self.accounted = {
            ref.point
            for source in site.sources
            for ref in (*source.activity, *source.parameters.values())
            if ref.point is not None
        }

    def _calcination_t_h(self, device: Device) -> float:
        """Process CO2 of a kiln at full load [t/h]: clinker × (CaO × 44/56 + MgO × 44/40).

        The clinker method of the MEE cement guideline; both ratios from chemistry.csv.
        """
        clinker = _number(device, "clinker_t_h", 0.0)
        if not clinker:
            return 0.0
        per_cao = self.catalog.constant("ratio", "co2_per_cao", unit="tCO2/t").to("tCO2/t")
        per_mgo = self.catalog.constant("ratio", "co2_per_mgo", unit="tCO2/t").to("tCO2/t")
        cao = _number(device, "cao", 0.65)
        mgo = _number(device, "mgo", 0.02)
        return clinker * (cao * per_cao + mgo * per_mgo)

    # -- one day ---------------------------------------------------------------------------
    def base_step(self, step_s: int | None = None, history_step_s: int | None = None) -> int:
        """The simulation step: ``step_s``, else the smallest interval any point is sampled
        at (each point's interval, thinned to ``history_step_s`` except CEMS points)."""
        if step_s is not None:
            return step_s
        intervals = [
            p.interval_s
            if not history_step_s or self._keeps_interval(d, p)
            else max(p.interval_s, history_step_s)
            for _, d in self.devices
            for p in d.points
        ]
        return min(intervals) if intervals else 900

    def day(
        self,
        day: dt.date,
        *,
        step_s: int | None = None,
        history_step_s: int | None = None,
        every_step: bool = False,
    ) -> tuple[Frame, DayTotals]:
        """One local day: readings of every point and the day's true totals.

        ``step_s`` is the simulation step; ``history_step_s`` thins every point to at
        least that interval (CEMS points and points a source reads keep theirs);
        ``every_step`` emits every point at every simulation step (e.g. minute data for
        all points, whatever their configured interval).
        """
        base = self.base_step(step_s, history_step_s)
        grid = day_grid(day, base, self.tz)
        spec = self.spec
        rng = day_rng(spec.seed, day, 2)
        temp = weather.temperature(spec.seed, grid)
        activity = spec.calendar.activity(grid)
        month_rng = np.random.default_rng([spec.seed, day.year, day.month, 3])
        level = float(np.clip(month_rng.normal(1.0, 0.08), 0.75, 1.2))
        if spec.continuous:
            # Around the clock; a dispatch shape with its peak in the afternoon.
            shape = 0.8 + 0.12 * np.cos(2 * np.pi * (grid.hour - 15.0) / 24.0)
            activity = np.clip(shape + 0.03 * rng.standard_normal(grid.n), 0.5, 1.0)
        production = activity * level * spec.production_factor
        totals = DayTotals()
        series: dict[str, F64] = {}  # point id -> values in the internal unit
        flags: dict[str, np.ndarray] = {}
        power: dict[str, F64] = {}  # device id -> kW
        hours = base / 3600.0

        # fans and pumps
        if self.fans.n:
            running, speed = self._fan_operation(day, grid, activity, temp, rng)
            kw = self.fans.electrical_kw(running, speed)
            kw *= 1 + 0.01 * rng.standard_normal(kw.shape)
            for i, device_id in enumerate(self.fan_ids):
                power[device_id] = kw[i]
                if "speed" in self.points[device_id].by_suffix:
                    series[self.points[device_id].by_suffix["speed"].id] = (
                        speed[i] * running[i] * 100
                    )
        # other electrical loads
        for _, d in self.devices:
            rated = d.rated_power_kw or 0.0
            if d.device_class == "compressor":
                comp = Compressor(rated, cycle_s=_number(d, "cycle_s", 300.0))
                demand = 0.35 + 0.55 * production + 0.05 * rng.standard_normal(grid.n)
                if spec.leak is not None and spec.leak[0] == d.id and day >= spec.leak[1]:
                    demand = demand + spec.leak[2]
                ts_s = (grid.ts_us // 1_000_000).astype(np.float64)
                power[d.id] = comp.power_kw(demand, np.ones(grid.n), ts_s, base)
            elif d.device_class == "welder":
                duty = np.clip(0.45 + 0.15 * rng.standard_normal(grid.n), 0.1, 0.9)
                power[d.id] = rated * production * duty
            elif d.device_class in ("motor", "mill"):
                power[d.id] = (
                    rated
                    * np.clip(0.2 + 0.7 * production, 0, 1)
                    * (1 + 0.02 * rng.standard_normal(grid.n))
                )
        # boilers, kilns and their stacks; generators on a boiler
        outs: dict[str, dict[str, F64]] = {}
        generated: dict[str, F64] = {}
        for device_id, boiler in self.boilers.items():
            load = np.clip(0.25 + 0.65 * production + 0.04 * rng.standard_normal(grid.n), 0.2, 1.0)
            out = boiler.run(load)
            totals.fuel_t[device_id] = float(out["fuel_t_h"].sum() * hours)
            totals.co2_t[device_id] = float(out["co2_t_h"].sum() * hours)
            pts = self.points[device_id].by_suffix
            if "fuel" in pts:
                series[pts["fuel"].id] = out["fuel_t_h"]
            if "clinker" in pts:
                clinker = load * _number(self._device(device_id), "clinker_t_h", 0.0)
                series[pts["clinker"].id] = clinker
                totals.clinker_t += float(clinker.sum() * hours)
            self._stack(device_id, out, load, grid, rng, series, flags)
            outs[device_id] = out
        for _, d in self.devices:
            if d.device_class == "generator":
                boiler_id = tag_values(d).get("boiler", "")
                if boiler_id not in outs:
                    raise ConfigError(f"device {d.id}: tag boiler:ID names no boiler")
                heat_gj_h = outs[boiler_id]["fuel_t_h"] * self.boilers[boiler_id].fuel.ncv_gj_per_t
                kw = heat_gj_h * units.factor("GJ/h", "kW") * _number(d, "efficiency", 0.4)
                generated[d.id] = kw
                totals.generated_kwh[d.id] = float(kw.sum() * hours)
                pts = self.points[d.id].by_suffix
                if "power" in pts:
                    series[pts["power"].id] = kw
        totals.production_t = float((production * spec.production_t_per_shift_h).sum() * hours)
        for device_id, kw in power.items():
            pts = self.points[device_id].by_suffix
            if "power" in pts:
                series[pts["power"].id] = kw
            totals.electricity_kwh[device_id] = float(kw.sum() * hours)
        self._site_kwh = 0.0
        self._meters(day, grid, power, generated, series, temp, rng)
        totals.site_kwh = self._site_kwh
        frame = self._frame(grid, series, flags, history_step_s, every_step)
        return frame, totals

    def _keeps_interval(self, device: Device, point: Point) -> bool:
        """CEMS points and points an emission source reads are never thinned."""
        return device.device_class == "cems" or point.id in self.accounted

    def _device(self, device_id: str) -> Device:
        return next(d for _, d in self.devices if d.id == device_id)

    def _fan_operation(
        self, day: dt.date, grid: DayGrid, activity: F64, temp: F64, rng: np.random.Generator
    ) -> tuple[F64, F64]:
        """Share of each step each fan runs, and its relative speed: (fans, steps)."""
        n = self.fans.n
        working = activity[None, :]
        cooling = self.cooling[:, None]
        hot = np.clip((temp[None, :] - 24.0) / 6.0, 0.0, 1.0)
        after = self.spec.intervention is not None and day >= self.spec.intervention
        if not after:
            # Manual switching: most fans are left on around the clock.
            left_on = rng.random((n, 1)) < 0.9
            running = np.where(working > 0, 1.0, left_on.astype(np.float64))
            speed = np.ones((n, grid.n))
            if self.spec.speed_control:
                speed = np.broadcast_to(0.85 + 0.15 * hot, (n, grid.n)).copy()
        else:
            # Scheduled remote control: off outside shifts (a share stays on for air
            # changes, cooling fans when it is hot), VFD units slowed by temperature.
            keep = rng.random((n, 1)) < 0.4
            off_shift = np.maximum(keep.astype(np.float64), np.where(cooling, hot, 0.0))
            running = np.maximum(working, off_shift * (working == 0))
            speed = np.broadcast_to(0.85 + 0.15 * hot, (n, grid.n)).copy()
        return np.asarray(running, dtype=np.float64), speed

    def _stack(
        self,
        boiler_id: str,
        out: dict[str, F64],
        load: F64,
        grid: DayGrid,
        rng: np.random.Generator,
        series: dict[str, F64],
        flags: dict[str, np.ndarray],
    ) -> None:
        """The CEMS on the boiler's stack: analysers read the flue gas."""
        for _, d in self.devices:
            if d.device_class != "cems" or tag_values(d).get("stack-of") != boiler_id:
                continue
            pts = self.points[d.id].by_suffix
            true = {
                "co2": out["co2_mg_m3"],
                "flow": out["flow_m3_h"],
                "o2": out["o2_pct"],
                "so2": 60.0 + 25.0 * load,
                "nox": 90.0 + 60.0 * load,
                "dust": 6.0 + 4.0 * load,
                "temp": 120.0 + 40.0 * load,
            }
            for suffix, values in true.items():
                if suffix not in pts:
                    continue
                analyser = self.flow_analyser if suffix == "flow" else self.analyser
                if suffix in ("temp", "flow"):
                    measured = values * (1 + analyser.noise * rng.standard_normal(grid.n))
                    measured = measured * (1 + rng.uniform(-0.6, 0.6) * analyser.stated_error)
                    series[pts[suffix].id] = measured
                    continue
                measured, flag = analyser.measure(values, grid, rng)
                series[pts[suffix].id] = measured
                flags[pts[suffix].id] = flag

    def _meters(
        self,
        day: dt.date,
        grid: DayGrid,
        power: dict[str, F64],
        generated: dict[str, F64],
        series: dict[str, F64],
        temp: F64,
        rng: np.random.Generator,
    ) -> None:
        """Cumulative registers of every metered device and of feeder/site meters."""
        under: dict[str, list[str]] = defaultdict(list)
        for path, d in self.devices:
            if d.id in power:
                for area in path:
                    under[area].append(d.id)
                under["site"].append(d.id)
        for _, d in self.devices:
            pts = self.points[d.id].by_suffix
            if "energy" not in pts:
                continue
            if d.device_class == "meter":
                feeds = tag_values(d).get("feeds", "site")
                kw = np.zeros(grid.n)
                for device_id in under.get(feeds, []):
                    kw = kw + power[device_id]
                if feeds == "site" and self.spec.base_load_kw:
                    hvac = np.clip(temp - 22.0, 0, None) * 0.02 * self.spec.base_load_kw
                    kw = (
                        kw
                        + self.spec.base_load_kw * (1 + 0.03 * rng.standard_normal(grid.n))
                        + hvac
                    )
                power.setdefault(d.id, kw)
                if feeds == "site":
                    self._site_kwh += float(kw.sum() * grid.step_s / 3600.0)
            elif d.id in power:
                kw = power[d.id]
            elif d.id in generated:
                kw = generated[d.id]
            else:
                continue
            point = pts["energy"]
            factor = units.factor("kWh", point.unit)
            start = np.array([self.registers[point.id] / factor])
            values, end = register(kw[None, :], grid.step_s, start)
            values = values[0]
            for fault in self.resets:
                if point.id in fault.targets and grid.ts_us[0] <= fault.start_us <= grid.ts_us[-1]:
                    at = int(np.searchsorted(grid.ts_us, fault.start_us))
                    base = values[at - 1] if at > 0 else start[0]
                    values[at:] -= base
                    end = end - base
            if point.rollover is not None:
                values = np.mod(values * factor, point.rollover) / factor
            self.registers[point.id] = float(end[0]) * factor
            series[point.id] = values

    def _frame(
        self,
        grid: DayGrid,
        series: dict[str, F64],
        flags: dict[str, np.ndarray],
        history_step_s: int | None,
        every_step: bool = False,
    ) -> Frame:
        """Every point's values sampled at its own interval, in its own unit."""
        frames = []
        offsets = (grid.hour * 3600).round().astype(np.int64)
        for _, d in self.devices:
            for suffix, point in self.points[d.id].by_suffix.items():
                values = series.get(point.id)
                if values is None:
                    continue
                interval = grid.step_s if every_step else point.interval_s
                if history_step_s and not self._keeps_interval(d, point):
                    interval = max(interval, history_step_s)
                take = offsets % interval == 0
                internal = SUFFIX_UNITS.get(suffix, point.unit)
                converted = values[take] * units.factor(internal, point.unit)
                flag = flags.get(point.id)
                frames.append(
                    Frame.grid(
                        [point.id],
                        grid.ts_us[take],
                        converted[None, :],
                        None if flag is None else flag[take][None, :],
                    )
                )
        return Frame.concat(frames)
