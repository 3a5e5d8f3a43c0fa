"""A planted-truth year: a generated site with every case of issue 15, on SQLite and
PostgreSQL, whose expected monthly and annual figures this test computes from its own
inputs and the shipped factor rows (read here with the ``csv`` module, not through the
engine or the catalog).

The site ``planted`` (Asia/Shanghai, ``sector: power``), year 2025, five sources:

* ``gas`` — a gas boiler on a natural-gas totaliser (Nm3, hourly, ``rollover`` 1 000 000:
  the register starts at 990 000 and wraps in the first hours). True use: 200 Nm3 in each
  hour from 20:00 to 08:00 local, 250 Nm3 from 08:00 to 20:00. A 4-day gap: no reading
  after 2025-03-29 06:00 until 2025-04-02 00:00, so that one delta covers 90 h, of which
  66 h are in March — booked **pro rata by time** (docs/accounting.md, "Counter
  intervals"). One reading reads 0 (2025-06-15 10:00) and the next is back on the level:
  a glitch, quarantined; its hour and the next are one 2-hour delta inside June. The last
  reading, 2026-01-01 00:00, closes December's last hour (it is December's, not 2026's).
* ``coal`` — a raw-coal boiler with monthly imports: coal used (t), lab NCV (GJ/t) and lab
  carbon content per heat (tC/GJ). May has no carbon value: the month takes the power
  guideline's default (``sector: power`` → series ``mee_power``). No oxidation rate is
  given anywhere: every month takes the series' default. December's coal use was never
  imported: the month is **missing** — listed with its reason, never a zero.
* ``stack`` — a CEMS stack (CO2 mg/m3 and flow m3/h, hourly). A 30 h analyser fault in
  August (max of the 720 valid hours before it, July's peak included) and a 3 h outage
  across Oct 31 / Nov 1 (mean of the valid hours either side; each month books its own
  hours) — HJ 75-2017 §11–12 [M], thresholds in data/cems.csv.
* ``kiln`` — limestone calcination from a monthly series (t); **declared shut down** for
  all of February (no data there): February is a true, declared zero.
* ``grid`` — the grid meter (kWh, hourly, 300 kWh every hour), **replaced** at
  2025-07-15 12:00: the old register read 1 507 600 then (100 000 + 4 692 h × 300), the
  new one 5; no reading at 12:00 itself. A dip (one reading 10 000 kWh low, then back) on
  Sep 9 is a glitch. Declared after the readings arrived: the replacement rebuilds them.

Every path is sent twice (readings and manual imports): the second time changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tansuan.accounting import results
from tansuan.accounting.declare import declare_shutdown
from tansuan.accounting.engine import Accountant, RunReport
from tansuan.accounting.periods import parse_period
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.manual import import_table
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.store.timeutil import to_us

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
MONTHS = [f"{YEAR}-{m:02d}" for m in range(1, 13)]


# -- the shipped factor rows, read as a person would: by id, unit checked -----------------
def _row(table: str, row_id: str) -> dict[str, str]:
    with files("tansuan.data").joinpath(f"{table}.csv").open(encoding="utf-8") as handle:
        (row,) = [r for r in csv.DictReader(handle) if r["id"] == row_id]
    return row


def _value(table: str, row_id: str, unit: str) -> float:
    row = _row(table, row_id)
    assert row["unit"] == unit, (row_id, row["unit"])
    return float(Fraction(row["value"]))  # "44/12" is written as a ratio


CO2_PER_C = _value("chemistry", "ratio.co2_per_c", "tCO2/tC")
GAS_NCV = _value("fuels", "fuel.mee_power.natural_gas.ncv", "GJ/wNm3")  # per 10^4 Nm3
GAS_CC = _value("fuels", "fuel.mee_power.natural_gas.carbon_per_heat", "tC/TJ") / 1000  # tC/GJ
GAS_OF = _value("fuels", "fuel.mee_power.natural_gas.oxidation", "%") / 100
COAL_CC_DEFAULT = _value("fuels", "fuel.mee_power.raw_coal.carbon_per_heat.2022", "tC/GJ")
COAL_OF = _value("fuels", "fuel.mee_power.raw_coal.oxidation", "%") / 100
LIMESTONE = _value("process", "process.limestone", "tCO2/t")
GRID = _value("grid", "grid.ets.national.2023", "tCO2/MWh")
SHORT_GAP_H = int(_value("cems", "cems.short_gap_hours", "h"))
LOOKBACK_H = int(_value("cems", "cems.lookback_valid_hours", "h"))


def test_the_rows_this_test_relies_on_are_valid_in_2025() -> None:
    """The coal default and the grid factor are dated rows: 2025 must be inside them."""
    coal = _row("fuels", "fuel.mee_power.raw_coal.carbon_per_heat.2022")
    assert coal["valid_from"] <= "2025-01-01" and coal["valid_to"] == ""
    grid = _row("grid", "grid.ets.national.2023")
    assert grid["valid_from"] <= "2025-01-01" and grid["valid_to"] >= "2025-12-31"


# -- the site ---------------------------------------------------------------------------
def _point(pid: str, quantity: str, unit: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "quantity": quantity, "unit": unit, "interval_s": 3600, **extra}


MODEL: dict[str, Any] = {
    "version": 1,
    "organisation": {
        "id": "grp",
        "companies": [
            {
                "id": "co",
                "sites": [
                    {
                        "id": "planted",
                        "timezone": "Asia/Shanghai",
                        "sector": "power",
                        "areas": [
                            {
                                "id": "plant",
                                "devices": [
                                    {
                                        "id": "gas-boiler",
                                        "class": "boiler",
                                        "points": [
                                            _point(
                                                "gas.total",
                                                "fuel",
                                                "Nm3",
                                                kind="total_increasing",
                                                rollover=1_000_000,
                                            )
                                        ],
                                    },
                                    {"id": "coal-boiler", "class": "boiler"},
                                    {
                                        "id": "cems",
                                        "class": "analyser",
                                        "points": [
                                            _point("stack.co2", "concentration", "mg/m3"),
                                            _point("stack.flow", "flow", "m3/h"),
                                        ],
                                    },
                                    {"id": "kiln", "class": "kiln"},
                                    {
                                        "id": "grid-meter",
                                        "class": "meter",
                                        "points": [
                                            _point(
                                                "grid.energy",
                                                "energy",
                                                "kWh",
                                                kind="total_increasing",
                                            )
                                        ],
                                    },
                                ],
                            }
                        ],
                        "series": [
                            {"id": "coal-use", "kind": "fuel_consumption", "unit": "t"},
                            {"id": "coal-ncv", "kind": "lab_ncv", "unit": "GJ/t"},
                            {"id": "coal-cc", "kind": "lab_carbon_per_heat", "unit": "tC/GJ"},
                            {"id": "lime-use", "kind": "fuel_consumption", "unit": "t"},
                        ],
                        "sources": [
                            {
                                "id": "gas",
                                "method": "combustion",
                                "device": "gas-boiler",
                                "fuel": "natural_gas",
                                "activity": [{"point": "gas.total"}],
                            },
                            {
                                "id": "coal",
                                "method": "combustion",
                                "device": "coal-boiler",
                                "fuel": "raw_coal",
                                "monthly": True,
                                "activity": [{"series": "coal-use"}],
                                "parameters": {
                                    "ncv": {"series": "coal-ncv"},
                                    "carbon_content_per_heat": {"series": "coal-cc"},
                                },
                            },
                            {
                                "id": "stack",
                                "method": "cems",
                                "device": "cems",
                                "activity": [{"point": "stack.co2"}, {"point": "stack.flow"}],
                            },
                            {
                                "id": "kiln",
                                "method": "process",
                                "device": "kiln",
                                "material": "limestone",
                                "activity": [{"series": "lime-use"}],
                            },
                            {
                                "id": "grid",
                                "method": "electricity",
                                "scope": 2,
                                "device": "grid-meter",
                                "activity": [{"point": "grid.energy"}],
                            },
                        ],
                    }
                ],
            }
        ],
    },
}


def _local(month: int, day: int, hour: int = 0, year: int = YEAR) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TZ)


def _month_of(instant: dt.datetime) -> str:
    """The local month an hour ``(instant − 1 h, instant]`` belongs to, by its start."""
    start = (instant - dt.timedelta(hours=1)).astimezone(TZ)
    return f"{start.year}-{start.month:02d}"


HOURS = [_local(1, 1) + dt.timedelta(hours=h) for h in range(8760 + 1)]  # 2025 + closing


# -- the gas totaliser ------------------------------------------------------------------
def _gas_use(hour_start: dt.datetime) -> float:
    """True use of the hour that starts at ``hour_start`` [Nm3]."""
    return 250.0 if 8 <= hour_start.astimezone(TZ).hour < 20 else 200.0


GAS_GAP = (_local(3, 29, 6), _local(4, 2))  #: readings strictly between are absent
GAS_GLITCH = _local(6, 15, 10)


def _gas_readings() -> tuple[list[int], list[float]]:
    stamps, values = [], []
    level = 990_000.0
    for i, ts in enumerate(HOURS):
        if i:
            level += _gas_use(HOURS[i - 1])
        if GAS_GAP[0] < ts < GAS_GAP[1]:
            continue
        stamps.append(to_us(ts))
        values.append(0.0 if ts == GAS_GLITCH else level % 1_000_000)
    return stamps, values


def _gas_wraps() -> list[dt.datetime]:
    """The readings at which the register passed 1 000 000 (a rollover, flagged for the
    record): from 990 000, 5 400 Nm3 a day, the first at 2025-01-02 20:00 (995 400 at
    midnight, + 8 × 200 + 12 × 250 = 1 000 000), the second once 2 000 000 is passed."""
    wraps, level = [], 990_000.0
    for i, ts in enumerate(HOURS[1:], start=1):
        before, level = level, level + _gas_use(HOURS[i - 1])
        if level // 1_000_000 > before // 1_000_000:
            wraps.append(ts)
    assert wraps[0] == _local(1, 2, 20) and len(wraps) == 2
    return wraps


def _gas_month_nm3() -> dict[str, float]:
    """Each hour's true use goes to its month, except the 90 h of the gap: their sum is one
    delta, spread evenly over its hours (66 of them in March, 24 in April)."""
    out = dict.fromkeys(MONTHS, 0.0)
    gap_hours = [h for h in HOURS[:-1] if GAS_GAP[0] <= h < GAS_GAP[1]]
    assert len(gap_hours) == 90
    gap_total = sum(_gas_use(h) for h in gap_hours)
    for h in HOURS[:-1]:
        month = _month_of(h + dt.timedelta(hours=1))
        out[month] += gap_total / 90 if h in gap_hours else _gas_use(h)
    return out


def _gas_t(nm3: float) -> float:
    """Combustion (MEE power guideline): FC [10^4 Nm3] × NCV × CC × OF × 44/12."""
    return nm3 / 1e4 * GAS_NCV * GAS_CC * GAS_OF * CO2_PER_C


# -- coal: monthly imports --------------------------------------------------------------
def _coal_inputs(month: int) -> tuple[float | None, float, float | None]:
    """(coal t, NCV GJ/t, C tC/GJ) as imported: no C in May, no coal use in December."""
    use = None if month == 12 else 8_000.0 + 100.0 * month
    cc = None if month == 5 else 0.0270 + 0.0001 * month
    return use, 20.0 + 0.1 * month, cc


def _coal_t(month: int) -> float | None:
    """FC × NCV × CC × OF × 44/12 (MEE power guideline, month by month); May takes the
    default CC, every month the default OF (sector power → mee_power); December: none."""
    use, ncv, cc = _coal_inputs(month)
    if use is None:
        return None
    return use * ncv * (COAL_CC_DEFAULT if cc is None else cc) * COAL_OF * CO2_PER_C


def _table(series: str, unit: str, values: dict[int, float | None]) -> list[list[object]]:
    rows: list[list[object]] = [
        ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"]
    ]
    for month, value in values.items():
        if value is None:
            continue
        first = dt.date(YEAR, month, 1)
        last = dt.date(YEAR + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
        rows.append(
            [
                "planted",
                series,
                first.isoformat(),
                last.isoformat(),
                value,
                unit,
                f"{series}-{month}",
            ]
        )
    return rows


# -- CEMS -------------------------------------------------------------------------------
CEMS_GAPS = {
    *[_local(8, 10) + dt.timedelta(hours=h) for h in range(30)],
    _local(10, 31, 22),
    _local(10, 31, 23),
    _local(11, 1, 0),
}
CEMS_PEAKS = {
    _local(7, 5, 12): 300_000.0,  # outside August's look-back
    _local(7, 20, 12): 150_000.0,  # inside it: the value of the 30 h gap
    _local(8, 3, 12): 120_000.0,
    _local(10, 31, 21): 90_000.0,  # the neighbours of the 3 h gap: mean 110 000
    _local(11, 1, 1): 130_000.0,
}
FLOW = 100_000.0  #: m3/h in every hour


def _concentration(hour: dt.datetime) -> float:
    return CEMS_PEAKS.get(hour, 100_000.0 + 1_000.0 * (hour.timetuple().tm_yday % 5))


def _cems_month_t() -> dict[str, float]:
    """HJ 212-2017 App. D eq. (33): an hour emits C [mg/m3] × Q [m3/h] × 10^-9 t.

    Missing hours filled by HJ 75 (independently of the engine): a run of missing hours of
    at most ``SHORT_GAP_H`` takes the mean of the valid hour before and after it; a longer
    run the maximum of the ``LOOKBACK_H`` valid hours before it. By hand: August's 30 h
    take 150 000 (July 20) → 30 × 15 t = 450 t; the 3 h across Oct 31 / Nov 1 take
    (90 000 + 130 000) / 2 = 110 000 → 11 t each, 22 t in October and 11 t in November.
    """
    hours = HOURS[:-1]
    value: dict[dt.datetime, float] = {h: _concentration(h) for h in hours if h not in CEMS_GAPS}
    missing = sorted(CEMS_GAPS)
    runs: list[list[dt.datetime]] = []
    for h in missing:
        if runs and h - runs[-1][-1] == dt.timedelta(hours=1):
            runs[-1].append(h)
        else:
            runs.append([h])
    filled = dict(value)
    for run in runs:
        before = [value[h] for h in hours if h < run[0] and h in value]
        after = next(value[h] for h in hours if h > run[-1] and h in value)
        fill = (before[-1] + after) / 2 if len(run) <= SHORT_GAP_H else max(before[-LOOKBACK_H:])
        filled.update(dict.fromkeys(run, fill))
    assert filled[_local(8, 10)] == 150_000.0 and filled[_local(11, 1)] == 110_000.0
    out = dict.fromkeys(MONTHS, 0.0)
    for h, c in filled.items():
        out[f"{h.year}-{h.month:02d}"] += c * FLOW * 1e-9
    return out


# -- limestone --------------------------------------------------------------------------
def _lime_t(month: int) -> float | None:
    """Limestone used [t]; none in February (declared shut down)."""
    return None if month == 2 else 1_000.0 + 10.0 * month


# -- grid -------------------------------------------------------------------------------
REPLACED = _local(7, 15, 12)
GRID_DIP = _local(9, 9, 9)


def _grid_readings() -> tuple[list[int], list[float], float]:
    """300 kWh every hour; the old register from 100 000, the new one from 5 at
    ``REPLACED``; returns the stamps, values and the old register's final reading."""
    stamps, values = [], []
    final = 0.0
    for i, ts in enumerate(HOURS):
        if ts == REPLACED:
            final = 100_000.0 + 300.0 * i
            continue
        level = (
            100_000.0 + 300.0 * i if ts < REPLACED else 5.0 + 300.0 * (i - HOURS.index(REPLACED))
        )
        stamps.append(to_us(ts))
        values.append(level - 10_000.0 if ts == GRID_DIP else level)
    assert final == 100_000.0 + 300.0 * 4_692  # Jan 1 → Jul 15 12:00 is 195 d 12 h
    return stamps, values, final


def _grid_t(month: str) -> float:
    hours = sum(1 for h in HOURS[1:] if _month_of(h) == month)
    return hours * 300.0 / 1000 * GRID


# -- expected ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Expected:
    monthly: dict[tuple[str, str], float | None]  #: (source, month) → t CO2e, None missing

    def year_t(self) -> float:
        return sum(v for v in self.monthly.values() if v is not None)


def _expected() -> Expected:
    gas = _gas_month_nm3()
    cems = _cems_month_t()
    monthly: dict[tuple[str, str], float | None] = {}
    for m, label in enumerate(MONTHS, start=1):
        lime = _lime_t(m)
        monthly[("gas", label)] = _gas_t(gas[label])
        monthly[("coal", label)] = _coal_t(m)
        monthly[("stack", label)] = cems[label]
        monthly[("kiln", label)] = 0.0 if lime is None else lime * LIMESTONE
        monthly[("grid", label)] = _grid_t(label)
    return Expected(monthly)


# -- the run ----------------------------------------------------------------------------
def _send_everything(store: Store) -> None:
    ingestor = Ingestor(store)
    gas_ts, gas_v = _gas_readings()
    grid_ts, grid_v, _ = _grid_readings()
    co2 = [h for h in HOURS[:-1] if h not in CEMS_GAPS]
    keys = (
        ["gas.total"] * len(gas_ts)
        + ["grid.energy"] * len(grid_ts)
        + ["stack.co2"] * len(co2)
        + ["stack.flow"] * (len(HOURS) - 1)
    )
    stamps = gas_ts + grid_ts + [to_us(h) for h in co2] + [to_us(h) for h in HOURS[:-1]]
    values = gas_v + grid_v + [_concentration(h) for h in co2] + [FLOW] * (len(HOURS) - 1)
    result = ingestor.ingest_columns("planted", keys, stamps, values)
    assert result.rejected == 0
    every = range(1, 13)
    tables = [
        (_table("coal-use", "t", {m: _coal_inputs(m)[0] for m in every}), "fuel"),
        (_table("coal-ncv", "GJ/t", {m: _coal_inputs(m)[1] for m in every}), "lab"),
        (_table("coal-cc", "tC/GJ", {m: _coal_inputs(m)[2] for m in every}), "lab"),
        (_table("lime-use", "t", {m: _lime_t(m) for m in every}), "fuel"),
    ]
    for rows, kind in tables:
        imported = import_table(store, rows, kind=kind)
        assert not imported.errors, imported.errors


@pytest.fixture
def planted(db_url: str, tmp_path: Path) -> Iterator[tuple[Store, Accountant]]:
    store = Store(db_url)
    model = SiteModel.model_validate(MODEL)
    store.load_model(model)
    _send_everything(store)
    _send_everything(store)  # every path re-sent: nothing may change
    _, _, final = _grid_readings()
    Ingestor(store).replace_meter(
        "planted", "grid.energy", to_us(REPLACED), final, 5.0, "meter replaced (work order 17)"
    )
    evidence = tmp_path / "kiln-shutdown.pdf"
    evidence.write_bytes(b"%PDF-1.4 kiln relining, February 2025")
    declare_shutdown(
        store,
        model,
        site="planted",
        source="kiln",
        date_from=dt.date(YEAR, 2, 1),
        date_to=dt.date(YEAR, 2, 28),
        reason="kiln relining",
        evidence=evidence,
        by="test",
    )
    yield store, Accountant(store, model)
    store.close()


def _flags(store: Store, point: str) -> list[tuple[dt.datetime, str]]:
    with store.read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT f.ts_us, f.kind FROM counter_flag f JOIN point p ON p.id = f.point_id "
                "WHERE p.key = :key ORDER BY f.ts_us"
            ),
            {"key": point},
        ).all()
    return [
        (dt.datetime.fromtimestamp(int(r[0]) / 1e6, dt.UTC).astimezone(TZ), str(r[1])) for r in rows
    ]


def _by_source_month(report: RunReport) -> dict[tuple[str, str], results.ResultSet]:
    return {(r.source_id, r.period): r for r in report.computed}


def test_planted_year_matches_the_hand_calculation(planted: tuple[Store, Accountant]) -> None:
    """Every source-month equals its expected figure to the gram; December's coal is
    missing (listed, never zero); the year's total is the sum of the known months."""
    store, accountant = planted
    expected = _expected()
    report = accountant.run("planted", parse_period(str(YEAR)))
    assert report.errors == []
    assert [(r.source_id, r.period, r.state) for r in report.problems()] == [
        ("coal", "2025-12", "missing")
    ]
    got = _by_source_month(report)
    assert set(got) == set(expected.monthly)
    for key, tonnes in expected.monthly.items():
        result = got[key]
        if tonnes is None:
            assert result.lines == () and result.problem, key
            continue
        assert result.state == "computed", (key, result.problem)
        assert result.co2e_g == pytest.approx(tonnes * 1e6, abs=1), key
    with store.read() as conn:
        lines = results.current_lines(conn, "planted", MONTHS)
    assert sum(int(line["co2e_g"]) for line in lines) == pytest.approx(
        expected.year_t() * 1e6,
        abs=30,  # 59 months, each rounded once to the gram
    )
    assert {line["scope"] for line in lines if line["source_id"] == "grid"} == {"2-location"}
    # where the values came from
    may = got[("coal", "2025-05")]
    assert any("carbon_content_per_heat" in note for note in may.notes)
    steps = {p["name"]: p.get("step") for p in may.trace["inputs"] + may.trace["factors"]}
    assert steps.get("oxidation") == "sector_default"
    february = got[("kiln", "2025-02")]
    assert february.co2e_g == 0 and any("declared shutdown" in n for n in february.notes)
    # the glitches are quarantined with their kind, the replacement is no reset
    assert _flags(store, "gas.total") == sorted(
        [(GAS_GLITCH, "glitch")] + [(ts, "rollover") for ts in _gas_wraps()]
    )
    assert _flags(store, "grid.energy") == [(GRID_DIP, "glitch")]
    # a second run changes nothing
    again = accountant.run("planted", parse_period(str(YEAR)))
    assert set(again.outcomes()) == {"unchanged"}


def test_without_a_sector_the_coal_months_fail_and_are_listed(
    planted: tuple[Store, Accountant],
) -> None:
    """The same site without ``sector:``: the defaults come from series ``mee_2013``, which
    has no raw-coal oxidation rate or carbon content (``mee_power`` has), so January to
    November fail — each stored as failed with its reason and fix, none dropped — and December is
    still missing. The other sources do not depend on it and are computed."""
    store, _ = planted
    model = SiteModel.model_validate(MODEL)
    site = model.site("planted")
    unsectored = model.model_copy(deep=True)
    object.__setattr__(unsectored.site("planted"), "sector", None)
    assert site.sector == "power" and unsectored.site("planted").sector is None
    report = Accountant(store, unsectored).run("planted", parse_period(str(YEAR)))
    problems = [(r.source_id, r.period, r.state) for r in report.problems()]
    assert problems == [("coal", m, "failed") for m in MONTHS[:-1]] + [
        ("coal", "2025-12", "missing")
    ]
    assert [(source, month) for source, month, _ in report.errors] == [
        ("coal", m) for m in MONTHS[:-1]
    ]
    # each names what is missing and the series that has it; May lacks its lab C first
    missing = {month: error.split(":")[0] for _, month, error in report.errors}
    assert missing == {
        m: "coal.carbon_content_per_heat" if m == "2025-05" else "coal.oxidation"
        for m in MONTHS[:-1]
    }
    assert all("series with a default for raw_coal: mee_power" in e for *_, e in report.errors)
    assert all(r.fix for r in report.problems())
    assert {r.source_id for r in report.computed if r.state == "computed"} == {
        "gas",
        "stack",
        "kiln",
        "grid",
    }
