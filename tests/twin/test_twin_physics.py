"""The twin's physics: affinity laws, compressors, registers, combustion vs CEMS, seeds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tansuan.domain import cems as domain_cems
from tansuan.domain import combustion
from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.gases import gwp_set
from tansuan.site.model import Site
from tansuan.twin import demo, weather
from tansuan.twin.analyser import Analyser
from tansuan.twin.boiler import Fuel
from tansuan.twin.calendar import ShiftCalendar, day_grid
from tansuan.twin.compressor import Compressor
from tansuan.twin.fans import FanBank, affinity
from tansuan.twin.frame import Frame
from tansuan.twin.meter import register
from tansuan.twin.plant import Plant, TwinSpec

DAY = dt.date(2025, 6, 2)  # a Monday


def test_affinity_laws() -> None:
    """Q ∝ N, p ∝ N², W ∝ N³: at 80 % speed 0.8, 0.64 and 0.512 of rated (hand calc)."""
    q, p, w = affinity(np.array([1.0, 0.8, 0.5]), flow=10.0, pressure=1000.0, power=50.0)
    np.testing.assert_allclose(q, [10.0, 8.0, 5.0])
    np.testing.assert_allclose(p, [1000.0, 640.0, 250.0])
    np.testing.assert_allclose(w, [50.0, 25.6, 6.25])


def test_fan_electrical_power_follows_the_cube_law_within_drive_losses() -> None:
    """A VFD fan's shaft power is ∝ speed³; its electrical input differs from the cube law
    only by the drive's part-load efficiency (≤ 15 % droop at the lowest speed used).
    A direct-on-line fan: 30 kW × 0.8 / 0.9 = 26.667 kW whatever the speed asked."""
    bank = FanBank(
        rated_kw=np.array([30.0, 30.0]),
        load_factor=np.array([0.8, 0.8]),
        motor_efficiency=np.array([0.9, 0.9]),
        vfd=np.array([True, False]),
    )
    speeds = np.array([[1.0, 0.9, 0.8, 0.7, 0.6]] * 2)
    kw = bank.electrical_kw(np.ones_like(speeds), speeds)
    ratio = kw[0] / kw[0, 0]
    cube = speeds[0] ** 3
    assert np.all(np.abs(ratio / cube - 1) < 0.15)
    assert ratio[2] == pytest.approx(0.512, rel=0.05)
    np.testing.assert_allclose(kw[1], 30 * 0.8 / 0.9)


def test_compressor_load_unload_cycle_averages_to_demand() -> None:
    """250 kW loaded, unloaded at 30 %: at half demand the mean power is
    250 × (0.3 + 0.7 × 0.5) = 162.5 kW; each 10 s step is either 250 or 75 kW."""
    comp = Compressor(250.0, unloaded_share=0.3, cycle_s=300.0)
    ts = np.arange(0, 3600, 10, dtype=np.float64)
    kw = comp.power_kw(np.full(ts.size, 0.5), np.ones(ts.size), ts, 10)
    assert set(np.round(kw, 6)) == {250.0, 75.0}
    assert kw.mean() == pytest.approx(162.5)
    hourly = comp.power_kw(np.full(4, 0.5), np.ones(4), np.arange(4) * 900.0, 900)
    np.testing.assert_allclose(hourly, 162.5)


def test_register_integrates_power_and_rolls_over() -> None:
    """60 kW for 3 minutes = 3 kWh; from 99 with rollover at 100 the register reads 0, 1, 2."""
    values, end = register(np.array([[60.0, 60.0, 60.0]]), 60, np.array([99.0]), rollover=100)
    np.testing.assert_allclose(values[0], [0.0, 1.0, 2.0], atol=1e-9)
    assert end[0] == pytest.approx(102.0)


def test_fuel_carbon_comes_from_the_catalog() -> None:
    """Fuel oil (MEE 2013 defaults): 41.816 GJ/t × 21.1 tC/TJ × 98 % × 44/12
    = 41.816 × 0.0211 × 0.98 × 3.666667 = 3.17046 tCO2/t."""
    fuel = Fuel.from_catalog(shipped_catalog(), "fuel_oil")
    assert fuel.co2_t_per_t == pytest.approx(3.17046, rel=1e-5)


def _hourly_means(frame: Frame, point: str) -> np.ndarray:
    rows = frame.take((frame.point == point) & (frame.quality == "N"))
    hours = rows.ts_us // 3_600_000_000
    return np.array([rows.value[hours == h].mean() for h in np.unique(hours)])


def test_combustion_co2_equals_cems_co2_within_the_analysers_error(mini_site: Site) -> None:
    """Over three days, CO2 from the fuel burnt (NCV × CC × OF × 44/12) equals the CO2
    computed from the CEMS hourly means (HJ 212-2017 App. D eq. (33)) within the
    combined stated errors of the CO2 analyser (2.5 %) and the flow monitor (3 %)."""
    catalog = shipped_catalog()
    plant = Plant(mini_site, TwinSpec(seed=3))
    fuel_t = 0.0
    co2_means, flow_means = [], []
    for i in range(3):
        frame, totals = plant.day(DAY + dt.timedelta(days=i))
        fuel_t += totals.fuel_t["boiler-1"]
        co2_means.append(_hourly_means(frame, "stack-1.co2"))
        flow_means.append(_hourly_means(frame, "stack-1.flow"))
    fuel = Fuel.from_catalog(catalog, "fuel_oil")
    from_fuel = combustion.co2_from_heat(
        fuel_t, fuel.ncv_gj_per_t, fuel.carbon_per_heat_tc_per_gj, fuel.oxidation, fuel.co2_per_c
    )
    result = domain_cems.cems_co2(
        concentration=np.concatenate(co2_means),
        concentration_unit="mg/m3",
        flow=np.concatenate(flow_means),
        flow_unit="m3/h",
        constants=domain_cems.CemsConstants.from_catalog(catalog),
        gwp=gwp_set("AR5"),
    )
    from_cems = result.gases_t["CO2"]
    stated = (1 + Analyser().stated_error) * (1 + plant.flow_analyser.stated_error) - 1
    assert from_fuel > 10
    assert abs(from_cems / from_fuel - 1) <= stated


def test_calibration_window_is_flagged_c(mini_site: Site) -> None:
    """Every day at 02:00–02:15 local the CO2 analyser's values carry flag C."""
    frame, _ = Plant(mini_site, TwinSpec(seed=1)).day(DAY)
    co2 = frame.take(frame.point == "stack-1.co2")
    flagged = co2.ts_us[co2.quality == "C"]
    local = [
        dt.datetime.fromtimestamp(t / 1e6, dt.timezone(dt.timedelta(hours=8))) for t in flagged
    ]
    assert [x.strftime("%H:%M") for x in local] == ["02:00", "02:05", "02:10"]


def test_a_seed_makes_a_run_reproducible(mini_site: Site) -> None:
    a, _ = Plant(mini_site, TwinSpec(seed=5)).day(DAY)
    b, _ = Plant(mini_site, TwinSpec(seed=5)).day(DAY)
    c, _ = Plant(mini_site, TwinSpec(seed=6)).day(DAY)
    assert a.n == b.n == c.n > 0
    np.testing.assert_array_equal(a.value, b.value)
    np.testing.assert_array_equal(a.ts_us, b.ts_us)
    assert not np.array_equal(a.value, c.value)


def test_registers_run_on_from_day_to_day(mini_site: Site) -> None:
    plant = Plant(mini_site, TwinSpec(seed=2))
    first, _ = plant.day(DAY)
    second, _ = plant.day(DAY + dt.timedelta(days=1))
    meter = np.concatenate([f.value[f.point == "grid-meter.energy"] for f in (first, second)])
    assert np.all(np.diff(meter) > 0)


def test_weather_is_xiamen_like() -> None:
    """Xiamen: January means ~13 °C, July ~29 °C; afternoons warmer than dawn."""
    zone = "Asia/Shanghai"
    jan = np.mean([weather.temperature(1, day_grid(dt.date(2025, 1, d), 3600, zone)).mean()
                   for d in range(1, 29)])  # fmt: skip
    jul = np.mean([weather.temperature(1, day_grid(dt.date(2025, 7, d), 3600, zone)).mean()
                   for d in range(1, 29)])  # fmt: skip
    assert 9 < jan < 17 and 25 < jul < 33
    grid = day_grid(dt.date(2025, 7, 1), 3600, zone)
    t = weather.temperature(1, grid)
    assert t[14] > t[5]


def test_shift_calendar() -> None:
    cal = ShiftCalendar()
    zone = "Asia/Shanghai"
    sunday = cal.activity(day_grid(dt.date(2025, 6, 1), 3600, zone))
    monday = cal.activity(day_grid(dt.date(2025, 6, 2), 3600, zone))
    holiday = cal.activity(day_grid(dt.date(2025, 10, 2), 3600, zone))
    assert sunday.sum() == 0 and holiday.sum() == 0
    assert monday[10] == 1 and monday[3] == 0


def test_shipyard_fan_control_cuts_fan_energy_by_about_30_percent() -> None:
    """A year of the shipyard's ~300 fans with and without scheduled remote control
    (same seed, so the same weather and shifts — the adjusted baseline of IPMVP): the
    control saves 25–35 % of the fans' energy (the ~30 % case)."""
    site = demo.site("shipyard")
    start = dt.date(2025, 1, 1)
    base = demo.spec("shipyard", intervention=dt.date(2099, 1, 1))
    controlled = demo.spec("shipyard", intervention=start)
    totals = []
    for spec in (base, controlled):
        plant = Plant(site, spec)
        fans = set(plant.fan_ids)
        assert 280 <= len(fans) <= 320
        kwh = 0.0
        for i in range(365):
            _, day = plant.day(start + dt.timedelta(days=i), step_s=3600)
            kwh += sum(v for k, v in day.electricity_kwh.items() if k in fans)
        totals.append(kwh)
    assert 0.25 <= 1 - totals[1] / totals[0] <= 0.35


def test_minute_data_for_every_point(mini_site: Site) -> None:
    frame, _ = Plant(mini_site, TwinSpec(seed=1)).day(DAY, step_s=60, every_step=True)
    assert frame.n == 1440 * len(mini_site.points())


def test_thinned_history_keeps_the_points_accounting_reads(mini_site: Site) -> None:
    """--step 3600: a fan's power hourly; the grid meter (read by the electricity source)
    and the stack (CEMS) keep their 5-minute interval."""
    frame, _ = Plant(mini_site, TwinSpec(seed=1)).day(DAY, history_step_s=3600)
    count = {p: int((frame.point == p).sum()) for p in mini_site.points()}
    assert count["fan-1.power"] == 24 and count["boiler-1.fuel"] == 24
    assert count["grid-meter.energy"] == 288 and count["stack-1.co2"] == 288


@given(
    power=st.lists(st.floats(0, 5000, allow_nan=False), min_size=1, max_size=200),
    start=st.floats(0, 1e7, allow_nan=False),
    step=st.sampled_from([60, 300, 900, 3600]),
)
def test_register_invariants(power: list[float], start: float, step: int) -> None:
    """A register never falls (no rollover), and its total rise is Σ P Δt."""
    kw = np.array([power])
    values, end = register(kw, step, np.array([start]))
    assert np.all(np.diff(values[0]) >= 0)
    assert end[0] - start == pytest.approx(sum(power) * step / 3600, rel=1e-9, abs=1e-6)
