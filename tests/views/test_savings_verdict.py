"""Savings against a baseline that fails ASHRAE Guideline 14 are reported as not verifiable,
with the failing criteria, by the savings view and ``tansuan analyse --json``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.views.savings import savings_report

MONDAY = dt.date(2026, 1, 5)
INTERVENTION = MONDAY + dt.timedelta(days=14)


def _noisy_days() -> dict[str, float]:
    """Two baseline weeks from Monday 2026-01-05: every day of the first week 60 kWh, of the
    second 140 kWh; then a week at 70 kWh. Weekdays and weekend days both average 100 kWh, so
    the weekday/weekend fit is ŷ = 100 (weekend coefficient 0), residuals ±40 kWh:
    SSE = 14 · 1600 = 22 400, n − p = 14 − 2 = 12, RMSE = sqrt(22 400 / 12) = 43.20 kWh,
    CV(RMSE) = 43.20 % (> 30 %, G14's limit for data finer than monthly), NMBE = 0 %,
    R² = 0 (< 0.5)."""
    out = {}
    for i in range(21):
        day = MONDAY + dt.timedelta(days=i)
        out[day.isoformat()] = 60.0 if i < 7 else 140.0 if i < 14 else 70.0
    return out


def test_the_view_marks_a_failing_baseline_not_verifiable() -> None:
    report = savings_report(_noisy_days(), INTERVENTION)
    assert report["baseline"]["cv_rmse_pct"] == pytest.approx(100 * np.sqrt(22400 / 12) / 100)
    assert report["verifiable"] is False
    failing = {f["criterion"]: f for f in report["failing"]}
    assert set(failing) == {"CV(RMSE) [%]", "R²"}
    assert failing["CV(RMSE) [%]"]["limit"] == "≤ 30 %"
    assert failing["R²"]["limit"] == "≥ 0.5"
    assert "不足以核证" in report["verification"]["message"]
    # The figures are still there (the fields are only added).
    assert report["fraction"] == pytest.approx(0.30)


def _csv(path: Path, days: dict[str, float], production: bool = False) -> Path:
    lines = ["date,energy"] + [f"{d},{e}" for d, e in days.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_cli_json_and_text_say_so(tmp_path: Path) -> None:
    path = _csv(tmp_path / "noisy.csv", _noisy_days())
    args = ["analyse", "--csv", str(path), "--intervention", INTERVENTION.isoformat()]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    saving = json.loads(result.output)["savings"]
    assert saving["verifiable"] is False
    assert {f["criterion"] for f in saving["failing"]} == {"CV(RMSE) [%]", "R²"}
    assert saving["fraction"] == pytest.approx(0.30)
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 0, text.output
    assert "not verifiable with this model" in text.output and "CV(RMSE)" in text.output


def test_a_baseline_that_fits_is_verifiable(tmp_path: Path) -> None:
    """kWh = 300 + 2·production + noise σ 8 (production 50…150): CV(RMSE) ≈ 2 %, R² > 0.9."""
    rng = np.random.default_rng(3)
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(200)]
    production = rng.uniform(50, 150, 200)
    energy = 300 + 2 * production + rng.normal(0, 8, 200)
    energy[150:] *= 0.7
    path = tmp_path / "good.csv"
    rows = [f"{d},{e:.3f},{p:.3f}" for d, e, p in zip(days, energy, production, strict=True)]
    path.write_text("date,energy,production\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["analyse", "--csv", str(path), "--intervention", str(days[150]), "--json"]
    )
    assert result.exit_code == 0, result.output
    saving = json.loads(result.output)["savings"]
    assert saving["verifiable"] is True and saving["failing"] == []
