"""The accounting engine on a synthetic plant whose true emissions are computed by hand.

The plant (year 2024, Asia/Shanghai, grid region "east"):

* ``coal`` — a coal-fired boiler computed month by month as the MEE power-generation
  guideline prescribes: E = Σ_m FC_m × NCV_m × CC_m × OF × 44/12, with FC from monthly
  consumption records, NCV and CC from monthly lab analyses. The March carbon analysis is
  missing, so March uses the guideline default CC = 0.03085 tC/GJ (2022 revision) for
  that month only. OF = 99 % (guideline default). 44/12 is the guideline's fraction.
* ``grid`` — purchased electricity from an hourly kWh register (total_increasing) that
  advances 100 kWh every hour, with a meter reset in June (the new register starts at 0,
  so that hour's reading carries no consumption — a reset never creates energy) and a
  72-hour data gap in August (the register keeps counting, so the first reading after
  the gap carries the whole 7 300 kWh and no energy is lost). ETS grid factor for 2024:
  0.5703 tCO2/MWh (national; no regional ETS factor exists for "east").
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlalchemy as sa

from tansuan.accounting import results
from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.rollup import grams_to_tonnes, rollup
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.manual import import_table
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.store.timeutil import to_us

TZ = ZoneInfo("Asia/Shanghai")

MODEL = {
    "version": 1,
    "organisation": {
        "id": "grp",
        "companies": [
            {
                "id": "co",
                "sites": [
                    {
                        "id": "plant",
                        "timezone": "Asia/Shanghai",
                        "grid_region": "east",
                        "areas": [
                            {
                                "id": "boiler-house",
                                "devices": [{"id": "boiler", "class": "boiler"}],
                            },
                            {
                                "id": "substation",
                                "devices": [
                                    {
                                        "id": "grid-meter",
                                        "class": "meter",
                                        "points": [
                                            {
                                                "id": "grid.energy",
                                                "quantity": "energy",
                                                "unit": "kWh",
                                                "kind": "total_increasing",
                                                "interval_s": 3600,
                                            }
                                        ],
                                    }
                                ],
                            },
                        ],
                        "series": [
                            {"id": "coal-use", "kind": "fuel_consumption", "unit": "t"},
                            {"id": "coal-ncv", "kind": "lab_ncv", "unit": "GJ/t"},
                            {"id": "coal-cc", "kind": "lab_carbon_per_heat", "unit": "tC/GJ"},
                        ],
                        "sources": [
                            {
                                "id": "coal",
                                "method": "combustion",
                                "device": "boiler",
                                "fuel": "raw_coal",
                                "monthly": True,
                                "activity": [{"series": "coal-use"}],
                                "parameters": {
                                    "ncv": {"series": "coal-ncv"},
                                    "carbon_content_per_heat": {"series": "coal-cc"},
                                    "series": {"value": "mee_power"},
                                },
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

#: CO2 of a normal month: 10 000 t × 20 GJ/t × 0.027 tC/GJ × 0.99 × 44/12
#: = 200 000 GJ × 0.027 = 5 400 tC; × 0.99 = 5 346 tC; × 44/12 = 19 602 tCO2.
COAL_MONTH_T = 19_602.0
#: March with the default CC: 200 000 × 0.03085 = 6 170 tC; × 0.99 = 6 108.3 tC;
#: × 44/12 = 22 397.1 tCO2.
COAL_MARCH_T = 22_397.1
#: The year: 11 × 19 602 + 22 397.1 = 215 622 + 22 397.1 = 238 019.1 tCO2.
COAL_YEAR_T = 238_019.1


def _month_hours(month: int) -> int:
    start = dt.datetime(2024, month, 1, tzinfo=TZ)
    end = dt.datetime(2024 + (month == 12), month % 12 + 1, 1, tzinfo=TZ)
    return int((end - start).total_seconds() // 3600)


def _grid_month_kwh(month: int) -> float:
    """Each reading carries the hour before it: readings at t1 and t2 give (t1, t2].

    Readings run hourly from local 2023-12-31 23:00 to 2024-12-31 23:00. The reading at
    2024-01-01 00:00 closes 2023's last hour (not January's); each month then gets the
    hours that start in it: hours × 100 kWh — except December, whose last hour (23:00 to
    2025-01-01 00:00) has no closing reading yet: 743 × 100 kWh. June loses the 100 kWh
    of the reset hour. The August gap (72 missing readings) is closed by the reading at
    08-08 00:00, whose 7,300 kWh over (08-04 23:00, 08-08 00:00] all lie in August.
    """
    kwh = _month_hours(month) * 100.0
    return kwh - 100.0 if month in (6, 12) else kwh


GRID_FACTOR = 0.5703  # tCO2/MWh, ETS 2023–2025 (grid.csv grid.ets.national.2023)


def _grid_readings() -> tuple[list[int], list[float]]:
    start = dt.datetime(2023, 12, 31, 23, tzinfo=TZ)
    hours = 8784 + 1  # 2024 is a leap year; plus the reading before the year
    stamps = [start + dt.timedelta(hours=h) for h in range(hours)]
    values = np.arange(hours, dtype=float) * 100.0
    reset_at = stamps.index(dt.datetime(2024, 6, 10, 12, tzinfo=TZ))
    values[reset_at:] -= values[reset_at]  # new register: 0 at the reset reading
    gap = {dt.datetime(2024, 8, 5, tzinfo=TZ) + dt.timedelta(hours=h) for h in range(72)}
    keep = [i for i, ts in enumerate(stamps) if ts not in gap]
    return [to_us(stamps[i]) for i in keep], [float(values[i]) for i in keep]


def _manual_rows(series: str, unit: str, value: float, months: list[int]) -> list[list[object]]:
    rows: list[list[object]] = [
        ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"]
    ]
    for month in months:
        first = dt.date(2024, month, 1)
        last = dt.date(2024 + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
        rows.append(
            [
                "plant",
                series,
                first.isoformat(),
                last.isoformat(),
                value,
                unit,
                f"{series}-{month:02d}",
            ]
        )
    return rows


@pytest.fixture
def plant(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    store.load_model(SiteModel.model_validate(MODEL))
    every = list(range(1, 13))
    assert not import_table(store, _manual_rows("coal-use", "t", 10_000, every), kind="fuel").errors
    assert not import_table(store, _manual_rows("coal-ncv", "GJ/t", 20, every), kind="lab").errors
    no_march = [m for m in every if m != 3]
    assert not import_table(
        store, _manual_rows("coal-cc", "tC/GJ", 0.027, no_march), kind="lab"
    ).errors
    stamps, values = _grid_readings()
    result = Ingestor(store).ingest_columns("plant", ["grid.energy"] * len(stamps), stamps, values)
    assert result.rejected == 0
    yield store
    store.close()


def _co2_t(lines: list[dict[str, object]], source: str, period: str | None = None) -> float:
    return grams_to_tonnes(
        sum(
            int(str(line["co2e_g"]))
            for line in lines
            if line["source_id"] == source and (period is None or line["period"] == period)
        )
    )


def test_planted_year(plant: Store) -> None:
    accountant = Accountant(plant, SiteModel.model_validate(MODEL))
    report = accountant.run("plant", parse_period("2024"))
    assert report.errors == []
    assert report.outcomes() == {"created": 24}
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    with plant.read() as conn:
        lines = results.current_lines(conn, "plant", months)
    # coal, month by month, March on the default
    assert _co2_t(lines, "coal", "2024-01") == pytest.approx(COAL_MONTH_T, abs=1e-6)
    assert _co2_t(lines, "coal", "2024-03") == pytest.approx(COAL_MARCH_T, abs=1e-6)
    assert _co2_t(lines, "coal") == pytest.approx(COAL_YEAR_T, abs=1e-5)
    march = next(r for r in report.computed if r.source_id == "coal" and r.period == "2024-03")
    assert any("no measured carbon_content_per_heat" in note for note in march.notes)
    january = next(r for r in report.computed if r.source_id == "coal" and r.period == "2024-01")
    assert not any("default" in note for note in january.notes)
    # grid: no phantom energy at the reset, nothing lost in the gap
    for month in range(1, 13):
        expected = _grid_month_kwh(month) / 1000 * GRID_FACTOR
        assert _co2_t(lines, "grid", f"2024-{month:02d}") == pytest.approx(expected, abs=1e-6)
    august = next(r for r in report.computed if r.source_id == "grid" and r.period == "2024-08")
    assert august.coverage == pytest.approx((_month_hours(8) - 72) / _month_hours(8))
    assert {line["scope"] for line in lines if line["source_id"] == "grid"} == {"2-location"}
    # roll-ups are exact: the site total is the sum of the sources
    placed = accountant.lines("plant", parse_period("2024"))
    totals = rollup(placed, "node")
    assert totals["grp/co/plant"] == sum(int(str(line["co2e_g"])) for line in lines)
    assert totals["grp/co/plant/boiler-house"] == sum(
        int(str(line["co2e_g"])) for line in lines if line["source_id"] == "coal"
    )
    # re-running changes nothing
    again = accountant.run("plant", parse_period("2024"))
    assert again.outcomes() == {"unchanged": 24}


def test_late_correction_makes_a_new_version_and_filed_months_need_acceptance(
    plant: Store,
) -> None:
    model = SiteModel.model_validate(MODEL)
    accountant = Accountant(plant, model)
    accountant.run("plant", parse_period("2024"))
    # The May invoice is corrected: 10 000 → 10 500 t. Only May changes:
    # 10 500 × 20 × 0.027 × 0.99 × 44/12 = 20 582.1 tCO2.
    rows = _manual_rows("coal-use", "t", 10_500, [5])
    assert not import_table(plant, rows, kind="fuel", hooks=[accountant.manual_hook]).errors
    with plant.read() as conn:
        assert [(s, p) for s, p, _ in results.stale(conn, "plant")] == [("coal", "2024-05")]
    report = accountant.recalculate_stale("plant")
    assert report.outcomes() == {"superseded": 1}
    assert accountant.run("plant", parse_period("2024")).outcomes() == {"unchanged": 24}
    with plant.read() as conn:
        lines = results.current_lines(conn, "plant", ["2024-05"])
        versions = results.history(conn, "plant", "coal", "2024-05")
    assert _co2_t(lines, "coal") == pytest.approx(20_582.1, abs=1e-6)
    assert [(v["version"], v["status"]) for v in versions] == [(1, "superseded"), (2, "current")]
    assert "inputs changed" in versions[0]["reason"]

    # File the year, then a corrected meter reading arrives for the end of October: the
    # register read 50 kWh more at local 2024-11-01 00:00. That reading closes October's
    # last hour (2024-10-31 23:00, 11-01 00:00], which carries 50 kWh more; the next
    # reading's hour (00:00, 01:00] (November) carries 50 kWh less. Both months go stale,
    # October through the month of ts − 1 µs.
    with plant.write() as conn:
        results.lock(conn, "plant", [f"2024-{m:02d}" for m in range(1, 13)], by="accountant")
    ts = dt.datetime(2024, 11, 1, 0, tzinfo=TZ)
    stamps, values = _grid_readings()
    corrected = values[stamps.index(to_us(ts))] + 50.0
    ingestor = Ingestor(plant, batch_hooks=[accountant.stale_hook])
    ingestor.ingest_columns("plant", ["grid.energy"], [to_us(ts)], [corrected])
    with plant.read() as conn:
        marked = results.stale(conn, "plant")
    assert [(s, p) for s, p, _ in marked] == [("grid", "2024-10"), ("grid", "2024-11")]
    stale_report = accountant.recalculate_stale("plant")
    assert sorted((r.source_id, r.period) for r in stale_report.computed) == [
        ("grid", "2024-10"),
        ("grid", "2024-11"),
    ]
    assert stale_report.outcomes() == {"proposed": 2}
    filed_oct = _grid_month_kwh(10) / 1000 * GRID_FACTOR
    with plant.read() as conn:
        october = results.current_lines(conn, "plant", ["2024-10"])
        proposed = results.current_lines(conn, "plant", ["2024-10"], status="proposed")
    assert _co2_t(october, "grid") == pytest.approx(filed_oct, abs=1e-6)  # filed: unchanged
    # proposal: (hours × 100 + 50) kWh × 0.5703 tCO2/MWh
    assert _co2_t(proposed, "grid") == pytest.approx(
        (_grid_month_kwh(10) + 50) / 1000 * GRID_FACTOR, abs=1e-6
    )
    version = next(
        s.version
        for r, s in zip(stale_report.computed, stale_report.saved, strict=True)
        if r.period == "2024-10"
    )
    with plant.write() as conn:
        results.accept(conn, "plant", "grid", "2024-10", version, by="verifier")
    with plant.read() as conn:
        history = results.history(conn, "plant", "grid", "2024-10")
        october = results.current_lines(conn, "plant", ["2024-10"])
    assert [v["status"] for v in history] == ["superseded", "current"]
    assert _co2_t(october, "grid") == pytest.approx(
        (_grid_month_kwh(10) + 50) / 1000 * GRID_FACTOR, abs=1e-6
    )


def test_unknown_site_is_a_clear_error(plant: Store) -> None:
    from tansuan.errors import NotFound

    accountant = Accountant(plant, SiteModel.model_validate(MODEL))
    with pytest.raises(NotFound, match="no site 'elsewhere'"):
        accountant.run("elsewhere", parse_period("2024"))


def test_results_tables_live_beside_the_store(plant: Store) -> None:
    Accountant(plant, SiteModel.model_validate(MODEL))
    names = set(sa.inspect(plant.engine).get_table_names())
    assert {"result_sets", "result_lines", "period_locks", "stale_marks"} <= names


CEMS_MODEL = {
    "version": 1,
    "organisation": {
        "id": "grp",
        "companies": [
            {
                "id": "co",
                "sites": [
                    {
                        "id": "yard",
                        "areas": [
                            {
                                "id": "utilities",
                                "devices": [
                                    {
                                        "id": "boiler",
                                        "class": "boiler",
                                        "points": [
                                            {
                                                "id": "co2",
                                                "quantity": "concentration",
                                                "unit": "mg/m3",
                                                "interval_s": 3600,
                                            },
                                            {
                                                "id": "flow",
                                                "quantity": "flow",
                                                "unit": "m3/h",
                                                "interval_s": 3600,
                                            },
                                        ],
                                    }
                                ],
                            }
                        ],
                        "series": [{"id": "oil", "kind": "fuel_consumption", "unit": "t"}],
                        "sources": [
                            {
                                "id": "oil",
                                "method": "combustion",
                                "fuel": "fuel_oil",
                                "device": "boiler",
                                "activity": [{"series": "oil"}],
                                "cross_check": "stack",
                            },
                            {
                                "id": "stack",
                                "method": "cems",
                                "device": "boiler",
                                "activity": [{"point": "co2"}, {"point": "flow"}],
                            },
                        ],
                    }
                ],
            }
        ],
    },
}


def test_cems_month_with_a_gap_and_the_cross_check(db_url: str) -> None:
    """March 2024, hourly CEMS data on a dry standard basis (744 h).

    CEMS: 150 000 mg/m3 × 100 000 m3/h × 10^-6 = 15 000 kg/h = 15 t/h (HJ 212-2017 App. D
    eq. (33)); 4 hours are missing and filled with the mean of the valid hours around the
    gap (HJ 75 [M]), which is again 15 t/h: 744 × 15 = 11 160 tCO2; substituted share
    4/744 → grade B.

    Fuel: 3 500 t fuel oil × 41.816 GJ/t × 0.0211 tC/GJ × 0.98 × 44/12
    = 146 356 GJ → 3 088.1116 tC → 3 026.349368 tC → 11 096.614349 tCO2.
    Cross-check: (11 096.614349 − 11 160) / 11 160 = −0.5680 % → within 5 %, not flagged.
    """
    store = Store(db_url)
    try:
        model = SiteModel.model_validate(CEMS_MODEL)
        store.load_model(model)
        start = dt.datetime(2024, 3, 1, tzinfo=TZ)
        hours = [start + dt.timedelta(hours=h) for h in range(744) if h not in (100, 101, 102, 103)]
        stamps = [to_us(h) for h in hours]
        n = len(stamps)
        result = Ingestor(store).ingest_columns(
            "yard", ["co2"] * n + ["flow"] * n, stamps + stamps, [150_000.0] * n + [100_000.0] * n
        )
        assert result.rejected == 0
        rows = _manual_rows("oil", "t", 3_500, [3])
        for row in rows[1:]:
            row[0] = "yard"
        assert not import_table(store, rows, kind="fuel").errors
        accountant = Accountant(store, model)
        report = accountant.run("yard", parse_period("2024-03"))
        assert report.errors == []
        stack = next(r for r in report.computed if r.source_id == "stack")
        assert grams_to_tonnes(stack.co2e_g) == pytest.approx(11_160.0, abs=1e-6)
        assert stack.substituted_share == pytest.approx(4 / 744)
        assert stack.grade == "B"
        oil = next(r for r in report.computed if r.source_id == "oil")
        assert grams_to_tonnes(oil.co2e_g) == pytest.approx(11_096.614349, abs=1e-5)
        with store.read() as conn:
            counted = {
                line["source_id"] for line in results.current_lines(conn, "yard", ["2024-03"])
            }
            every = {
                line["source_id"]
                for line in results.current_lines(conn, "yard", ["2024-03"], include_checks=True)
            }
        assert (counted, every) == ({"oil"}, {"oil", "stack"})  # the CEMS check is not added
        (check,) = accountant.cross_checks("yard", parse_period("2024-03"))["oil~stack"]
        assert check.relative_difference == pytest.approx(-0.005679718, abs=1e-8)
        assert not check.flagged
        # April has no CEMS data at all: nothing is invented and it is not a zero — the
        # month is recorded as missing (no lines, grade D) with its reason and fix.
        april = accountant.run("yard", parse_period("2024-04"), sources=["stack"])
        (empty,) = april.computed
        assert (empty.state, empty.lines, empty.grade) == ("missing", (), "D")
        assert empty.problem is not None and "no activity data" in empty.problem
        assert empty.fix is not None and "tansuan declare shutdown" in empty.fix
        assert april.problems() == [empty]
    finally:
        store.close()


def test_cems_flue_conditions_hour_by_hour(db_url: str) -> None:
    """Dry standard concentration, actual wet flow: the flow is corrected hour by hour.

    HJ 212-2017 App. D eq. (31): Qsnh = Qsh × 273/(273 + ts) × (Ba + Ps)/101325 × (1 − Xsw)
    = 100 000 m3/h × 273/400 × 101 325/101 325 × (1 − 0.10) = 61 425 m3/h (ts = 127 °C,
    Ba = 101 325 Pa, Ps = 0, Xsw = 10 %). Eq. (33): G = 150 000 mg/m3 × 61 425 m3/h × 10^-6
    = 9 213.75 kg/h. March 2024 has 744 hours: 744 × 9.21375 t = 6 855.03 tCO2.
    (Ignoring the moisture would give 10 237.5 kg/h: the test would catch it.)
    """
    model = copy.deepcopy(CEMS_MODEL)
    site = model["organisation"]["companies"][0]["sites"][0]  # type: ignore[index]
    device = site["areas"][0]["devices"][0]
    device["points"] = [
        *device["points"],
        {"id": "moisture", "quantity": "moisture", "unit": "percent", "interval_s": 3600},
        {"id": "temp", "quantity": "temperature", "unit": "degC", "interval_s": 3600},
        {"id": "ambient", "quantity": "pressure", "unit": "Pa", "interval_s": 3600},
    ]
    site["sources"] = [
        {
            "id": "stack",
            "method": "cems",
            "device": "boiler",
            "activity": [{"point": "co2"}, {"point": "flow"}],
            "parameters": {
                "flow_state": {"value": "actual_wet"},
                "moisture": {"point": "moisture"},
                "flue_temperature": {"point": "temp"},
                "ambient_pressure": {"point": "ambient"},
            },
        }
    ]
    store = Store(db_url)
    try:
        parsed = SiteModel.model_validate(model)
        store.load_model(parsed)
        start = dt.datetime(2024, 3, 1, tzinfo=TZ)
        stamps = [to_us(start + dt.timedelta(hours=h)) for h in range(744)]
        series = {
            "co2": 150_000.0,
            "flow": 100_000.0,
            "moisture": 10.0,
            "temp": 127.0,
            "ambient": 101_325.0,
        }
        points = [p for p in series for _ in stamps]
        values = [series[p] for p in series for _ in stamps]
        result = Ingestor(store).ingest_columns("yard", points, stamps * len(series), values)
        assert result.rejected == 0
        report = Accountant(store, parsed).run("yard", parse_period("2024-03"))
        assert report.errors == []
        (stack,) = report.computed
        assert grams_to_tonnes(stack.co2e_g) == pytest.approx(6_855.03, abs=1e-6)
    finally:
        store.close()


def test_a_rate_point_is_integrated_hour_by_hour(db_url: str) -> None:
    """A diesel flow meter [t/h], hourly means, March 2024 (744 h), 3 hours missing.

    The source's rule ``interpolate`` bridges the 3-hour gap (0.5 t/h on both sides), so
    the month burns 744 h × 0.5 t/h = 372 t. Defaults (2013 guideline table, diesel):
    NCV 42.652 GJ/t, CC 20.2 tC/TJ, OF 98 %:
    372 × 42.652 = 15 866.544 GJ; × 0.0202 = 320.504189 tC; × 0.98 = 314.094105 tC;
    × 44/12 = 1 151.678385 tCO2. Substituted share 3/744 → grade B.
    """
    model = copy.deepcopy(CEMS_MODEL)
    site = model["organisation"]["companies"][0]["sites"][0]  # type: ignore[index]
    site["areas"][0]["devices"][0]["points"] = [
        {"id": "diesel", "quantity": "fuel flow", "unit": "t/h", "interval_s": 3600}
    ]
    site["series"] = []
    site["sources"] = [
        {
            "id": "genset",
            "method": "combustion",
            "fuel": "diesel",
            "device": "boiler",
            "gap_fill": "interpolate",
            "activity": [{"point": "diesel"}],
        }
    ]
    store = Store(db_url)
    try:
        parsed = SiteModel.model_validate(model)
        store.load_model(parsed)
        start = dt.datetime(2024, 3, 1, tzinfo=TZ)
        stamps = [to_us(start + dt.timedelta(hours=h)) for h in range(744) if not 200 <= h < 203]
        Ingestor(store).ingest_columns(
            "yard", ["diesel"] * len(stamps), stamps, [0.5] * len(stamps)
        )
        report = Accountant(store, parsed).run("yard", parse_period("2024-03"))
        assert report.errors == []
        (genset,) = report.computed
        assert grams_to_tonnes(genset.co2e_g) == pytest.approx(1_151.678385, abs=1e-5)
        assert genset.substituted_share == pytest.approx(3 / 744)
        assert genset.grade == "B"
    finally:
        store.close()
