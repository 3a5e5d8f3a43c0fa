"""Regression baselines: hand-calculated statistics and planted coefficients."""

from __future__ import annotations

import numpy as np
import pytest

from tansuan.analytics import stats
from tansuan.analytics.baseline import (
    degree_days,
    fit_baseline,
    normalised_enpi,
    specific_consumption,
    summary,
)
from tansuan.errors import InputError


def test_textbook_example_by_hand() -> None:
    """x = 1..5, y = 2,4,5,4,5.

    Sxx = 10, Sxy = 6 → slope 0.6, intercept 4 − 0.6·3 = 2.2.
    ŷ = 2.8, 3.4, 4.0, 4.6, 5.2 → residuals −0.8, 0.6, 1.0, −0.6, −0.2; SSE = 2.4.
    ȳ = 4, SST = 6 → R² = 0.6; adj R² = 1 − 0.4·4/3 = 0.46667.
    RMSE = sqrt(2.4/3) = 0.894427; CV(RMSE) = 22.3607 %; NMBE = 0 (OLS residuals sum to 0).
    SE(slope) = 0.894427/sqrt(10) = 0.282843 → t = 2.12132.
    """
    fit = fit_baseline([2, 4, 5, 4, 5], {"x": [1, 2, 3, 4, 5]})
    assert fit.coefficients == pytest.approx([2.2, 0.6])
    assert fit.r2 == pytest.approx(0.6)
    assert fit.adj_r2 == pytest.approx(0.466667, abs=1e-6)
    assert fit.rmse == pytest.approx(0.894427, abs=1e-6)
    assert fit.cv_rmse == pytest.approx(22.3607, abs=1e-4)
    assert fit.nmbe == pytest.approx(0.0, abs=1e-9)
    assert fit.std_errors[1] == pytest.approx(0.282843, abs=1e-6)
    assert fit.t_stats[1] == pytest.approx(2.12132, abs=1e-5)
    assert fit.p == 2 and fit.n == 5
    assert summary(fit)["nmbe_sign"].startswith("measured")


def test_student_t_quantiles_match_printed_tables() -> None:
    """Printed t tables: t(0.95, 10) = 1.812, t(0.975, 30) = 2.042, t(0.975, 1) = 12.706."""
    assert stats.t_ppf(0.95, 10) == pytest.approx(1.812, abs=5e-4)
    assert stats.t_ppf(0.975, 30) == pytest.approx(2.042, abs=5e-4)
    assert stats.t_ppf(0.975, 1) == pytest.approx(12.706, abs=5e-3)


def test_planted_coefficients_are_recovered_and_model_passes_g14() -> None:
    """E = 400 + 2.5·production + 12·HDD + noise(σ = 15): a good daily model."""
    rng = np.random.default_rng(7)
    n = 365
    production = rng.uniform(50, 150, n)
    temperature = 15 + 12 * np.sin(np.arange(n) * 2 * np.pi / 365)
    hdd = degree_days(temperature, kind="hdd")
    energy = 400 + 2.5 * production + 12 * hdd + rng.normal(0, 15, n)
    fit = fit_baseline(energy, {"production": production, "hdd": hdd})
    for true, est, se in zip([400, 2.5, 12], fit.coefficients, fit.std_errors, strict=True):
        assert abs(est - true) < 4 * se
    assert fit.r2 > 0.9
    assert fit.g14_regression(12).passed
    assert all(check.passed for check in fit.doe_checks({"production": production, "hdd": hdd}))


def test_a_bad_model_fails_g14_and_doe() -> None:
    """Energy unrelated to the driver: R² near 0, CV(RMSE) ≈ 40 % → fails both."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 48)
    y = 100 + rng.normal(0, 40, 48)
    fit = fit_baseline(y, {"x": x})
    assert not fit.g14_regression(6).passed
    checks = {c.name: c for c in fit.doe_checks()}
    assert not checks["R²"].passed


def test_g14_ladder_depends_on_post_retrofit_length() -> None:
    """A model with CV(RMSE) between 20 % and 25 % passes with 24 months, fails with 6."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 10, 200)
    y = 100 + 2 * x + rng.normal(0, 23, 200)
    fit = fit_baseline(y, {"x": x})
    assert 20 < fit.cv_rmse < 25
    assert fit.g14_regression(24).passed and not fit.g14_regression(6).passed


def test_extrapolated_reporting_drivers_fail_the_domain_check() -> None:
    x = np.linspace(10, 20, 30)
    fit = fit_baseline(3 * x + np.sin(x), {"x": x})
    domain = [c for c in fit.doe_checks({"x": np.full(5, 80.0)}) if c.name == "domain x"]
    assert domain and not domain[0].passed


def test_calibration_criteria_monthly() -> None:
    fit = fit_baseline([2, 4, 5, 4, 5], {"x": [1, 2, 3, 4, 5]})
    cv, nmbe = fit.g14_calibration("monthly")
    assert not cv.passed and nmbe.passed  # 22 % > 15 %, NMBE 0


def test_degree_days_use_hdd18_cdd26() -> None:
    """HDD18 of 10 °C = 8; CDD26 of 30 °C = 4; zero on the other side."""
    assert degree_days([10, 20], kind="hdd").tolist() == [8, 0]
    assert degree_days([30, 20], kind="cdd").tolist() == [4, 0]


def test_enpis() -> None:
    fit = fit_baseline([2, 4, 5, 4, 5], {"x": [1, 2, 3, 4, 5]})
    # baseline predicts 2.2 + 0.6·3 = 4.0 at x = 3; using 3.0 is a ratio of 0.75
    assert normalised_enpi(fit, [3.0], {"x": [3.0]}) == pytest.approx(0.75)
    assert specific_consumption([100, 200], [10, 10]) == pytest.approx(15.0)
    with pytest.raises(InputError, match="output is zero"):
        specific_consumption([1], [0])


@pytest.mark.parametrize(
    ("energy", "drivers", "message"),
    [
        ([1, 2, 3, 4], {"x": [1, 2, 3]}, "has 3 periods"),
        ([1, 2, float("nan"), 4], {"x": [1, 2, 3, 4]}, "without gaps"),
        ([1, 2, 3, 4, 5], {"x": [1, 2, 3, 4, 5], "y": [2, 4, 6, 8, 10]}, "collinear"),
        ([1, 2, 3], {"x": [1, 2, 3]}, "too few"),
        ([1, 2, 3, 4], {"x": [1, None, 3, 4]}, "missing"),
    ],
)
def test_bad_input_is_refused_clearly(energy: list, drivers: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        fit_baseline(energy, drivers)
