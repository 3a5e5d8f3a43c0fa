"""``tansuan analyse``, ``tansuan forecast``, ``tansuan position`` from files and the store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.settings import get_settings
from tansuan.store import Store

SH = dt.timezone(dt.timedelta(hours=8))


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _daily_csv(path: Path, *, saving: float, degrade: float = 0.0) -> Path:
    """365 baseline days from 2025-01-01 (kWh = 300 + 2·production + noise σ 8), then 120
    days from 2026-01-01 at (1 − saving) and, from 2026-03-02 (day 60), × (1 + degrade)."""
    rng = np.random.default_rng(9)
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(485)]
    production = rng.uniform(50, 150, 485)
    energy = 300 + 2 * production + rng.normal(0, 8, 485)
    energy[365:] *= 1 - saving
    energy[425:] *= 1 + degrade
    lines = ["date,energy,production"]
    lines += [f"{d},{e:.3f},{p:.3f}" for d, e, p in zip(days, energy, production, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_analyse_csv_measures_a_planted_saving(tmp_path: Path) -> None:
    path = _daily_csv(tmp_path / "fan.csv", saving=0.30)
    out = json.loads(run("analyse", "--csv", str(path), "--intervention", "2026-01-01", "--json"))
    assert out["savings"]["fraction"] == pytest.approx(0.30, abs=0.03)
    assert out["baseline"]["r2"] > 0.9
    lo, hi = out["savings"]["fraction_interval"]
    assert lo < 0.30 < hi


def test_analyse_csv_dates_a_planted_degradation(tmp_path: Path) -> None:
    """+8 % from 2026-03-02 (monitoring starts 2026-01-01): start dated within 5 days."""
    path = _daily_csv(tmp_path / "comp.csv", saving=0.0, degrade=0.08)
    out = json.loads(run("analyse", "--csv", str(path), "--baseline-end", "2026-01-01", "--json"))
    start = dt.date.fromisoformat(out["cusum"]["degradation"]["start"])
    chart = out["cusum"]["chart"]
    assert len(chart["dates"]) == len(chart["cusum"]) == 120 and chart["dates"][0] == "2026-01-01"
    assert abs((start - dt.date(2026, 3, 2)).days) <= 5
    text = run("analyse", "--csv", str(path), "--baseline-end", "2026-01-01")
    assert "degradation" in text


def test_analyse_refuses_bad_input_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,energy\n2026-01-01,abc\n", encoding="utf-8")
    out = run("analyse", "--csv", str(bad), "--baseline-end", "2026-01-02", code=1)
    assert "error" in out and "not a number" in out
    out = run("analyse", "--csv", str(_daily_csv(tmp_path / "x.csv", saving=0)), code=1)
    assert "--baseline-end" in out


def _monthly_csv(path: Path) -> Path:
    rng = np.random.default_rng(4)
    t = np.arange(48)
    y = 1000 + 6 * t + 150 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 25, 48)
    months = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(48)]
    lines = ["month,value", *(f"{m},{v:.2f}" for m, v in zip(months, y, strict=True))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_forecast_csv_backtests_and_picks_the_better_model(tmp_path: Path) -> None:
    path = _monthly_csv(tmp_path / "m.csv")
    out = json.loads(run("forecast", "--csv", str(path), "--factor-t-per-mwh", "0.5703", "--json"))
    assert out["model"] == "seasonal_regression"
    maes = {b["model"]: b["mae"] for b in out["backtest"]}
    assert maes["seasonal_regression"] < maes["seasonal_naive"]
    assert out["forecast"][0]["month"] == "2026-01" and len(out["forecast"]) == 12
    first = out["forecast"][0]
    assert first["lower"] < first["mean"] < first["upper"]
    assert first["tco2"] == pytest.approx(first["mean"] * 0.5703e-3)
    assert "back-test" in run("forecast", "--csv", str(path))


def test_position_from_an_imported_compliance_file(env: Store, tmp_path: Path) -> None:
    """Same figures as tests/market/test_position.py::test_short_after_selling, with the
    allocation entered and the trades listed: shortfall 100 000 t, P = 0.98237. The site
    has no accounting results, so the account's `emissions` are used."""
    doc = {
        "entity": "plant-1",
        "year": 2022,
        "price": 80,
        "emissions": {"mean": 1_000_000, "sd": 50_000},
        "allocation": 900_000,
        "banked": 10_000,
        "trades": [
            {
                "date": "2022-05-01",
                "side": "buy",
                "instrument": "CEA",
                "quantity": 40_000,
                "price": 58,
            },
            {
                "date": "2022-06-01",
                "side": "buy",
                "instrument": "CCER",
                "quantity": 60_000,
                "price": 40,
            },
            {
                "date": "2022-07-01",
                "side": "sell",
                "instrument": "CEA",
                "quantity": 100_000,
                "price": 60,
            },
        ],
    }
    path = tmp_path / "h.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert "+3" in run("position", "import", str(path), "--site", "site")
    out = json.loads(run("position", "--site", "site", "--json"))
    assert out["emissions_basis"] == "file" and out["year"] == 2022
    assert out["position"]["shortfall"] == pytest.approx(100_000)
    assert out["position"]["shortfall_probability"] == pytest.approx(0.98237, abs=1e-5)
    assert out["trade_cash"] == pytest.approx(-40_000 * 58 - 60_000 * 40 + 100_000 * 60)
    assert "P(shortfall)" in run("position", "--site", "site")


def test_position_with_computed_allocation_and_bad_file(env: Store, tmp_path: Path) -> None:
    """Gas unit 2022, 1 000 000 MWh, heat ratio 0.2 → 343 288 t allocated (hand calc in
    tests/market/test_allocation.py); emissions 343 288 exactly covered → no shortfall."""
    doc = {
        "entity": "gt",
        "year": 2022,
        "price": 80,
        "units": [{"id": "gt1", "category": "gas", "supply_mwh": 1_000_000, "heat_ratio": 0.2}],
    }
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    run("position", "import", str(path), "--site", "site")
    args = ("position", "--site", "site", "--emissions", "343288", "--json")
    out = json.loads(run(*args))
    assert out["account"]["free_allocation_t"] == pytest.approx(343_288)
    assert out["position"]["shortfall"] == pytest.approx(0, abs=1e-6)
    doc["units"][0]["cooling"] = "oil"
    doc["allocation"] = 5
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    bad = run("position", "import", str(path), "--site", "site", code=1)
    assert "units.0.cooling" in bad and "错误 / error" in bad
    again = json.loads(run(*args))  # nothing stored changed
    assert again["account"] == out["account"] and again["account"]["version"] == 1


@pytest.fixture
def env(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()


def test_analyse_and_forecast_from_the_store(env: Store) -> None:
    """'power' (kW, instantaneous) of a fan: 4 readings a day at kW = 10 + 0.1·fuel + noise σ 0.3;
    'fuel' (total) the daily production driver. 120 baseline days from 2026-01-01, then 60 days
    at 70 % → the saving is measured within ±3 pp. Daily energy = mean kW × 24 h."""
    rng = np.random.default_rng(2)
    readings = []
    for i in range(180):
        day = dt.datetime(2026, 1, 1, tzinfo=SH) + dt.timedelta(days=i)
        fuel = float(rng.uniform(20, 80))
        kw = (10 + 0.1 * fuel + rng.normal(0, 0.3)) * (0.7 if i >= 120 else 1.0)
        readings.append(Reading("site", "fuel", day + dt.timedelta(hours=12), fuel))
        readings += [
            Reading("site", "power", day + dt.timedelta(hours=h), kw) for h in (3, 9, 15, 21)
        ]
    Ingestor(env).ingest(readings)
    out = json.loads(
        run(
            "analyse",
            "--site",
            "site",
            "--point",
            "power",
            "--driver",
            "fuel=fuel",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
            "--intervention",
            "2026-05-01",
            "--json",
        )  # fmt: skip
    )
    assert out["days"] == 180
    assert out["savings"]["fraction"] == pytest.approx(0.30, abs=0.03)
    assert out["baseline"]["coefficients"]["fuel"] == pytest.approx(2.4, abs=0.3)  # 0.1 kW × 24 h
    short = run("forecast", "--site", "site", "--point", "fuel", "--from", "2026-01-01",
                "--to", "2026-07-01", code=1)  # fmt: skip
    assert "two seasons" in short


def test_forecast_from_the_store(env: Store) -> None:
    """'fuel' (total): one reading per month 2023-01 … 2025-12 with trend and season; the
    monthly sums come back from the store and the regression wins the back-test."""
    rng = np.random.default_rng(6)
    readings = [
        Reading(
            "site",
            "fuel",
            dt.datetime(2023 + i // 12, i % 12 + 1, 10, tzinfo=SH),
            float(500 + 4 * i + 80 * np.sin(2 * np.pi * i / 12) + rng.normal(0, 10)),
        )  # fmt: skip
        for i in range(36)
    ]
    Ingestor(env).ingest(readings)
    out = json.loads(
        run(
            "forecast",
            "--site",
            "site",
            "--point",
            "fuel",
            "--from",
            "2023-01-01",
            "--to",
            "2026-01-01",
            "--horizon",
            "6",
            "--json",
        )  # fmt: skip
    )
    assert out["model"] == "seasonal_regression"
    assert [f["month"] for f in out["forecast"]][:2] == ["2026-01", "2026-02"]
    assert out["forecast"][0]["mean"] == pytest.approx(500 + 4 * 36, abs=40)


def test_findings_from_the_store(env: Store) -> None:
    """Week of 2026-03-02 (Mon) in Asia/Shanghai, shift mon-fri 08-18.
    dev-1 'power' 50 kW on shift only → no finding. dev-2 ('b.energy' kWh counter, read every
    15 min) draws 20 kWh/h on shift and all Saturday: 24 h × 20 = 480 kWh off shift in 168 h
    → ≈ 480 × 8760/168 = 25 029 kWh/a (the first hour's delta may be lost at the edge)."""
    start = dt.datetime(2026, 3, 2, tzinfo=SH)
    cal_on = lambda t: t.weekday() < 5 and 8 <= t.hour < 18  # noqa: E731
    readings, counter = [], 0.0
    for q in range(7 * 24 * 4 + 1):
        t = start + dt.timedelta(minutes=15 * q)
        running = cal_on(t) or t.weekday() == 5
        readings.append(Reading("site", "b.energy", t, counter))
        counter += 5.0 if running else 0.0
        if q % 4 == 0:
            readings.append(Reading("site", "power", t, 50.0 if cal_on(t) else 0.0))
    Ingestor(env).ingest(readings)
    out = json.loads(
        run(
            "findings",
            "--site",
            "site",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-09",
            "--calendar",
            "mon-fri=08-18",
            "--tariff",
            "0.7",
            "--factor-t-per-mwh",
            "0.5703",
            "--json",
        )  # fmt: skip
    )
    assert [(f["device"], f["kind"]) for f in out["findings"]] == [("dev-2", "off_shift")]
    assert out["findings"][0]["annual_kwh"] == pytest.approx(25_029, rel=0.06)
    assert out["findings"][0]["annual_cost"] == pytest.approx(
        out["findings"][0]["annual_kwh"] * 0.7
    )
    args = ["--site", "site", "--from", "2026-03-02", "--to", "2026-03-09", "--tariff", "1"]
    bad = run("findings", *args, "--calendar", "someday=8-18", "--factor-t-per-mwh", "1", code=1)
    assert "unknown day" in bad


def test_findings_values_carbon_with_the_settings_price_like_the_dashboard(
    env: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18 #16: with TANSUAN_CARBON_PRICE=80 and no --carbon-price the CLI values a
    finding at the Settings' price (the dashboard's default), not at 0.

    dev-2 draws 20 kWh/h every hour of Saturday 2026-03-07 only (off shift): a finding of
    annual_kwh E; cost = E·0.7 (tariff) + E/1000·0.5 (tCO2/MWh)·80 (CNY/tCO2) = E·0.74.
    On main the carbon part was 0 (cost E·0.7)."""
    start = dt.datetime(2026, 3, 2, tzinfo=SH)
    readings, counter = [], 0.0
    for q in range(7 * 24 * 4 + 1):
        t = start + dt.timedelta(minutes=15 * q)
        readings.append(Reading("site", "b.energy", t, counter))
        counter += 5.0 if t.weekday() == 5 else 0.0
    Ingestor(env).ingest(readings)
    monkeypatch.setenv("TANSUAN_CARBON_PRICE", "80")
    monkeypatch.setenv("TANSUAN_ENERGY_TARIFF", "0.7")
    get_settings.cache_clear()
    out = json.loads(
        run(
            "findings",
            "--site",
            "site",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-09",
            "--calendar",
            "mon-fri=08-18",
            "--factor-t-per-mwh",
            "0.5",
            "--json",
        )  # fmt: skip
    )
    (finding,) = out["findings"]
    assert out["carbon_price"] == 80.0
    kwh = finding["annual_kwh"]
    assert kwh > 10_000
    assert finding["annual_cost"] == pytest.approx(kwh * 0.7 + kwh / 1000 * 0.5 * 80)
    # An explicit price still wins.
    free = json.loads(
        run(
            "findings",
            "--site",
            "site",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-09",
            "--calendar",
            "mon-fri=08-18",
            "--factor-t-per-mwh",
            "0.5",
            "--carbon-price",
            "0",
            "--json",
        )  # fmt: skip
    )
    assert free["findings"][0]["annual_cost"] == pytest.approx(kwh * 0.7)


def test_findings_help_marks_the_calendar_required() -> None:
    """Issue 18 #16: --calendar is required, and --help says so."""
    text = run("findings", "--help")
    block = text[text.index("--calendar") : text.index("--tariff")]
    assert "[required]" in block
    missing = CliRunner().invoke(
        app, ["findings", "--site", "s", "--from", "2026-03-02", "--to", "2026-03-09"]
    )
    assert missing.exit_code == 2 and "--calendar" in missing.output


def test_emissions_forecast_and_position_from_accounting_results(
    env: Store, tmp_path: Path
) -> None:
    """Accounting results (one source) 2023-01 … 2026-08: 10 000 + 50·t + 1 500·sin tCO2e.
    The 2026 outlook = 8 accounted months + 4 forecast ones; the entity holds exactly the
    expected total minus 5 000 t, so it is short by about 5 000 t. Rules are given in the file
    (none are shipped for 2026). Each month also has 20 000 t of market-based Scope 2, which
    is reported beside the total and never added: neither forecast nor position sees it."""
    from tansuan.accounting import results
    from tansuan.accounting.results import ResultLine, ResultSet

    rng = np.random.default_rng(12)
    truth = {}
    with env.write() as conn:
        for i in range(44):
            month = f"{2023 + i // 12}-{i % 12 + 1:02d}"
            t_co2 = 10_000 + 50 * i + 1_500 * np.sin(2 * np.pi * i / 12) + rng.normal(0, 100)
            truth[month] = t_co2
            grams = int(t_co2 * 1e6)
            results.save(
                conn,
                ResultSet("site", "boiler", month, "combustion",
                          (ResultLine("CO2", "1", grams, grams),
                           ResultLine("CO2", "2-market", 20_000_000_000, 20_000_000_000)),
                          {"i": i}, {}, "A", 1.0, 0.0),
            )  # fmt: skip
    out = json.loads(
        run(
            "forecast",
            "--site",
            "site",
            "--emissions",
            "--from",
            "2023-01-01",
            "--to",
            "2026-09-01",
            "--horizon",
            "4",
            "--json",
        )  # fmt: skip
    )
    assert out["model"] == "seasonal_regression"
    assert [f["month"] for f in out["forecast"]] == ["2026-09", "2026-10", "2026-11", "2026-12"]
    expected_rest = sum(10_000 + 50 * i + 1_500 * np.sin(2 * np.pi * i / 12) for i in range(44, 48))
    assert sum(f["mean"] for f in out["forecast"]) == pytest.approx(expected_rest, rel=0.03)
    accounted = sum(v for m, v in truth.items() if m.startswith("2026"))
    doc = {
        "entity": "site",
        "year": 2026,
        "price": 90,
        "allocation": round(accounted + expected_rest - 5_000),
        "rules": {"ccer_cap": 0.05},
    }
    path = tmp_path / "h.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    run("position", "import", str(path), "--site", "site")
    pos = json.loads(run("position", "--site", "site", "--year", "2026", "--json"))
    assert pos["outlook"]["months_actual"] == 8 and pos["outlook"]["months_forecast"] == 4
    assert pos["outlook"]["actual"] == pytest.approx(accounted, abs=1)
    assert pos["position"]["shortfall"] == pytest.approx(5_000, abs=1_500)
    assert pos["outlook"]["sd"] > 0 and pos["position"]["shortfall_probability"] > 0.99
    doc["allocation"] = pos["outlook"]["mean"]  # holdings = the expected total: even odds
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    run("position", "import", str(path), "--site", "site")
    even = json.loads(run("position", "--site", "site", "--json"))
    assert even["account"]["version"] == 2
    assert even["position"]["shortfall_probability"] == pytest.approx(0.5, abs=1e-6)
    missing = run("position", "--site", "nowhere", code=1)
    assert "no site 'nowhere'" in missing


@pytest.mark.parametrize("boundary", [("--node", "shop"), ("--class", "fan")])
def test_analyse_a_whole_area_by_node(env: Store, boundary: tuple[str, str]) -> None:
    """EnPI boundary = area 'shop' (all its energy meters; only 'b.energy' has data here),
    or every device of class 'fan' (dev-2, whose counter is 'b.energy'): kWh/day =
    100 + 2·fuel + noise σ 3, read at 06, 12, 18, 23 h; 30 % less from day 120."""
    rng = np.random.default_rng(21)
    readings, counter = [], 0.0
    for i in range(180):
        day = dt.datetime(2026, 1, 1, tzinfo=SH) + dt.timedelta(days=i)
        fuel = float(rng.uniform(20, 80))
        kwh = (100 + 2 * fuel + rng.normal(0, 3)) * (0.7 if i >= 120 else 1.0)
        readings.append(Reading("site", "fuel", day + dt.timedelta(hours=12), fuel))
        for h in (6, 12, 18, 23):
            counter += kwh / 4
            readings.append(Reading("site", "b.energy", day + dt.timedelta(hours=h), counter))
    Ingestor(env).ingest(readings)
    out = json.loads(
        run(
            "analyse",
            "--site",
            "site",
            *boundary,
            "--driver",
            "fuel=fuel",
            "--from",
            "2026-01-02",
            "--to",
            "2026-06-30",
            "--intervention",
            "2026-05-01",
            "--json",
        )  # fmt: skip
    )
    assert out["savings"]["fraction"] == pytest.approx(0.30, abs=0.03)
    assert out["baseline"]["coefficients"]["fuel"] == pytest.approx(2.0, abs=0.2)
    if boundary[0] == "--class":
        unknown = run("analyse", "--site", "site", "--class", "boat", "--from", "2026-01-02",
                      "--to", "2026-06-30", "--intervention", "2026-05-01", code=1)  # fmt: skip
        assert "no device of class 'boat'" in unknown and "fan" in unknown


def test_findings_compare_peers_on_specific_consumption(env: Store) -> None:
    """Site 'plant': four welders, 100 t/day each for 14 days, at 2.0, 2.1, 1.9 and 3.0 kWh/t.
    Median 2.05 kWh/t; w4 is 46 % above → excess (3.0 − 2.05) × 1 400 t = 1 330 kWh in 336 h
    → 1 330 × 8760/336 = 34 675 kWh/a. Calendar mon-sun 08-18 (readings at 10 h: on shift)."""
    from tansuan.site.model import SiteModel

    from ..conftest import DEFAULT_POINTS, site_document

    doc = site_document(DEFAULT_POINTS)
    welders = [
        {"id": f"w{i}", "class": "welder", "points": [
            {"id": f"w{i}.energy", "quantity": "energy", "unit": "kWh", "kind": "total"},
            {"id": f"w{i}.steel", "quantity": "production", "unit": "t", "kind": "total"},
        ]}
        for i in range(1, 5)
    ]  # fmt: skip
    plant = {
        "id": "plant",
        "timezone": "Asia/Shanghai",
        "areas": [{"id": "hall", "devices": welders}],
    }
    doc["organisation"]["companies"][0]["sites"].append(plant)
    env.load_model(SiteModel.model_validate(doc), source="test")
    sec = {1: 2.0, 2: 2.1, 3: 1.9, 4: 3.0}
    readings = []
    for day in range(14):
        t = dt.datetime(2026, 3, 2, 10, tzinfo=SH) + dt.timedelta(days=day)
        for i, s in sec.items():
            readings += [
                Reading("plant", f"w{i}.energy", t, 100 * s),
                Reading("plant", f"w{i}.steel", t, 100.0),
            ]
    Ingestor(env).ingest(readings)
    out = json.loads(
        run(
            "findings",
            "--site",
            "plant",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-16",
            "--calendar",
            "mon-sun=08-18",
            "--tariff",
            "0.7",
            "--factor-t-per-mwh",
            "0.5703",
            "--json",
        )  # fmt: skip
    )
    assert [(f["device"], f["kind"]) for f in out["findings"]] == [("w4", "peer_outlier")]
    assert out["findings"][0]["annual_kwh"] == pytest.approx(34_675, abs=1)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["2026-01,1", "2026-13,2"], "not a month"),
        (["2026-01,1", "2026-03,2"], "consecutive"),
        (["January,1"], "not a month"),
    ],
)
def test_forecast_refuses_bad_months(tmp_path: Path, rows: list[str], message: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text("month,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert message in run("forecast", "--csv", str(path), code=1)


def test_analyse_refuses_bad_dates_and_sorts_good_ones(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,energy\n2026-02-30,1\n", encoding="utf-8")
    assert "not a date" in run("analyse", "--csv", str(bad), "--baseline-end", "2026-03-01", code=1)
    path = _daily_csv(tmp_path / "fan.csv", saving=0.30)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n", encoding="utf-8")
    out = json.loads(run("analyse", "--csv", str(path), "--intervention", "2026-01-01", "--json"))
    assert out["savings"]["fraction"] == pytest.approx(0.30, abs=0.03)
