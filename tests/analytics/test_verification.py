"""The ASHRAE Guideline 14 verdict on a baseline: verifiable, or the criteria it fails."""

from __future__ import annotations

import numpy as np
import pytest

from tansuan.analytics.baseline import fit_baseline, summary
from tansuan.analytics.reference import criterion
from tansuan.analytics.verification import NOT_VERIFIABLE, verdict
from tansuan.errors import InputError


def test_a_noisy_mean_baseline_is_not_verifiable() -> None:
    """Energy 60, 140, 60, 140 kWh with no driver: the mean model ŷ = 100, residuals ±40,
    SSE = 4 · 1600 = 6400, n − p = 3, RMSE = sqrt(6400 / 3) = 46.19 kWh, so
    CV(RMSE) = 46.19 % (> G14's hourly/daily 30 %); NMBE = 0 %; R² = 0 (< 0.5)."""
    model = fit_baseline(np.array([60.0, 140.0, 60.0, 140.0]), {})
    got = verdict(summary(model), "daily")
    assert not got.verifiable
    failing = {f.criterion: f for f in got.failing}
    assert set(failing) == {"CV(RMSE) [%]", "R²"}
    assert failing["CV(RMSE) [%]"].value == pytest.approx(100 * np.sqrt(6400 / 3) / 100)
    assert failing["CV(RMSE) [%]"].limit == f"≤ {criterion('g14_calibration_cvrmse', 'hourly'):g} %"
    assert failing["R²"].value == pytest.approx(0.0, abs=1e-12)
    body = got.as_dict()
    assert body["verifiable"] is False
    assert body["verification"]["message"] == NOT_VERIFIABLE
    assert {f["criterion"] for f in body["failing"]} == {"CV(RMSE) [%]", "R²"}


def test_a_good_baseline_is_verifiable_and_the_resolution_picks_the_row() -> None:
    good = {"cv_rmse_pct": 12.0, "nmbe_pct": -0.5, "r2": 0.9}
    assert verdict(good, "daily").verifiable
    assert verdict(good, "hourly").as_dict() | {"verification": None} == {
        "verifiable": True, "failing": [], "verification": None,
    }  # fmt: skip
    # 12 % passes the monthly 15 %; 20 % does not, though it passes hourly's 30 %.
    assert verdict(good, "monthly").verifiable
    worse = good | {"cv_rmse_pct": 20.0, "nmbe_pct": 7.0}
    assert verdict(worse, "daily").verifiable
    monthly = verdict(worse, "monthly")
    assert [f.criterion for f in monthly.failing] == ["CV(RMSE) [%]", "NMBE [%]"]
    assert monthly.failing[1].limit == "±5 %"
    assert not verdict(good | {"r2": float("nan")}).verifiable


def test_bad_input_is_refused() -> None:
    with pytest.raises(InputError):
        verdict({"r2": 0.9}, "daily")
    with pytest.raises(InputError):
        verdict({"cv_rmse_pct": 1.0, "nmbe_pct": 0.0, "r2": 0.9}, "weekly")  # type: ignore[arg-type]
