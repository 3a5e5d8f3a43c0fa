"""``tansuan site load`` → ``tansuan import`` → ``tansuan account``: the whole CLI path."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.settings import get_settings

from .test_engine import COAL_MARCH_T, COAL_MONTH_T, COAL_YEAR_T, MODEL, _manual_rows


@pytest.fixture
def workdir(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _csv(path: Path, rows: list[list[object]]) -> Path:
    path.write_text("\n".join(",".join(str(v) for v in row) for row in rows) + "\n", "utf-8")
    return path


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_account_from_the_stored_model(workdir: Path) -> None:
    """Coal only (no grid readings imported): 11 × 19 602 + 22 397.1 = 238 019.1 tCO2."""
    model = workdir / "site.yaml"
    model.write_text(yaml.safe_dump(MODEL, allow_unicode=True), encoding="utf-8")
    run("site", "load", str(model))
    months = list(range(1, 13))
    run(
        "import",
        "--kind",
        "fuel",
        str(_csv(workdir / "use.csv", _manual_rows("coal-use", "t", 10_000, months))),
    )
    run(
        "import",
        "--kind",
        "lab",
        str(_csv(workdir / "ncv.csv", _manual_rows("coal-ncv", "GJ/t", 20, months))),
    )
    no_march = [m for m in months if m != 3]
    run(
        "import",
        "--kind",
        "lab",
        str(_csv(workdir / "cc.csv", _manual_rows("coal-cc", "tC/GJ", 0.027, no_march))),
    )

    out = json.loads(
        run("account", "--site", "plant", "--period", "2024", "--source", "coal", "--json")
    )
    assert out["outcomes"] == {"created": 12}
    assert out["total_co2e_t"] == pytest.approx(COAL_YEAR_T, abs=1e-5)
    by_month = {r["month"]: r["co2e_t"] for r in out["results"]}
    assert by_month["2024-01"] == pytest.approx(COAL_MONTH_T, abs=1e-6)
    assert by_month["2024-03"] == pytest.approx(COAL_MARCH_T, abs=1e-6)
    march = next(r for r in out["results"] if r["month"] == "2024-03")
    assert any("carbon_content_per_heat" in note for note in march["notes"])

    table = run(
        "account", "--site", "plant", "--period", "2024-03", "--source", "coal", "--by", "scope"
    )
    assert "22,397.100" in table  # the March figure, in the table
    assert "unchanged 1" in table  # a re-run saves nothing new


def test_account_without_a_loaded_model_is_a_clear_error(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["account", "--site", "plant", "--period", "2024"])
    assert result.exit_code == 1
    assert "site load" in result.output


def _result_sets(db_url: str) -> int:
    """How many result versions the store holds (every accounting run's written output)."""
    import sqlalchemy as sa

    from tansuan.store.schema import result_sets

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(result_sets)).scalar_one()
            )
    finally:
        engine.dispose()


def _loaded_coal_site(workdir: Path, months: list[int], year: int) -> None:
    model = workdir / "site.yaml"
    model.write_text(yaml.safe_dump(MODEL, allow_unicode=True), encoding="utf-8")
    run("site", "load", str(model))
    for kind, series, unit, value in (
        ("fuel", "coal-use", "t", 10_000),
        ("lab", "coal-ncv", "GJ/t", 20),
        ("lab", "coal-cc", "tC/GJ", 0.027),
    ):
        rows = _manual_rows(series, unit, value, months)
        for row in rows[1:]:  # the same months, moved to ``year``
            month = int(str(row[2])[5:7])
            first = dt.date(year, month, 1)
            row[2:4] = [first, dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(1)]
        run("import", "--kind", kind, str(_csv(workdir / f"{series}.csv", rows)))


def test_a_future_period_is_refused_and_nothing_is_written(workdir: Path, db_url: str) -> None:
    """The clock is frozen at 2026-11-18 (tests/conftest.py): 2027 and 2026-12 have not begun."""
    _loaded_coal_site(workdir, list(range(1, 13)), 2024)
    before = _result_sets(db_url)
    for period in ("2027", "2030", "2026-12", "2027-Q1"):
        result = CliRunner().invoke(app, ["account", "--site", "plant", "--period", period])
        assert result.exit_code == 1, result.output
        assert "尚未开始" in result.output and "has not started yet" in result.output
        assert period in result.output
    assert _result_sets(db_url) == before


def test_the_year_under_way_is_computed_to_today_and_provisional(
    workdir: Path, db_url: str
) -> None:
    """2026 on 2026-11-18: January to November are computed, December is not written at all."""
    _loaded_coal_site(workdir, list(range(1, 13)), 2026)
    before = _result_sets(db_url)
    out = json.loads(
        run("account", "--site", "plant", "--period", "2026", "--source", "coal", "--json")
    )
    assert out["provisional"] is True
    assert "临时数据" in out["provisional_reason"] and "not complete" in out["provisional_reason"]
    months = sorted({r["month"] for r in out["results"]})
    assert months == [f"2026-{m:02d}" for m in range(1, 12)]
    assert out["outcomes"] == {"created": 11}
    assert _result_sets(db_url) == before + 11
    table = run("account", "--site", "plant", "--period", "2026", "--source", "coal")
    assert "临时数据" in table and "provisional" in table

    past = json.loads(
        run("account", "--site", "plant", "--period", "2026-10", "--source", "coal", "--json")
    )
    assert past["provisional"] is False
    assert past["provisional_reason"] is None
