"""IPMVP savings: the G14 worked example and a planted 30 % fan saving."""

from __future__ import annotations

import numpy as np
import pytest

from tansuan.analytics.baseline import fit_baseline
from tansuan.analytics.savings import avoided_energy, fractional_savings_uncertainty
from tansuan.errors import InputError


def test_g14_fsu_worked_example() -> None:
    """energy-analytics.md §2.4: n = 12, ρ = 0, p = 2, CV = 5 %, F = 10 %, m = 12.

    t(0.95, 10) = 1.812 → FSU = 1.26·1.812·0.05·sqrt(1·(1 + 2/12)/12)/0.10
    = 2.28312·0.05·0.311805/0.10 = 0.35594 ≈ 0.36 (±36 % of savings at 90 %).
    """
    fsu = fractional_savings_uncertainty(0.05, 0.10, n=12, m=12, rho=0.0, p=2, confidence=0.9)
    assert fsu == pytest.approx(0.35594, abs=5e-4)


def test_autocorrelation_widens_the_uncertainty() -> None:
    """ρ = 0.5 → n' = n/3: the factor sqrt((n/n')(1 + 2/n')/m) grows."""
    plain = fractional_savings_uncertainty(0.2, 0.1, n=365, m=365, rho=0.0)
    correlated = fractional_savings_uncertainty(0.2, 0.1, n=365, m=365, rho=0.5)
    assert correlated > 1.7 * plain


def _fan(seed: int, saving: float) -> tuple:
    """A ventilation fan: kWh/day = 40 + 9·run-hours + noise σ = 12 kWh.

    365 baseline days; from the intervention 180 reporting days at (1 − saving) consumption.
    """
    rng = np.random.default_rng(seed)
    hours = rng.uniform(8, 22, 545)
    energy = 40 + 9 * hours + rng.normal(0, 12, 545)
    energy[365:] *= 1 - saving
    base = fit_baseline(energy[:365], {"run_hours": hours[:365]})
    return base, energy[365:], {"run_hours": hours[365:]}


def test_a_planted_thirty_percent_saving_is_measured_within_three_points() -> None:
    base, energy, drivers = _fan(5, 0.30)
    result = avoided_energy(base, energy, drivers, option="B", factor_t_per_unit=0.5703e-3)
    assert result.fraction == pytest.approx(0.30, abs=0.03)
    lo, hi = result.fraction_interval
    assert lo < 0.30 < hi
    assert result.avoided_tco2e == pytest.approx(result.avoided * 0.5703e-3)
    assert result.fsu < 0.5


def test_the_thirty_percent_holds_over_many_draws() -> None:
    """Across 30 fans, each measured saving is within ±3 pp and ≥ 90 % of intervals cover 30 %."""
    covered = 0
    for seed in range(30):
        base, energy, drivers = _fan(seed, 0.30)
        result = avoided_energy(base, energy, drivers)
        assert abs(result.fraction - 0.30) <= 0.03
        lo, hi = result.fraction_interval
        covered += lo <= 0.30 <= hi
    assert covered >= 27


def test_no_saving_gives_an_interval_around_zero() -> None:
    base, energy, drivers = _fan(2, 0.0)
    result = avoided_energy(base, energy, drivers, option="C")
    assert abs(result.fraction) < 0.02
    assert result.option == "C"


def test_bad_input() -> None:
    base, energy, drivers = _fan(2, 0.3)
    with pytest.raises(InputError, match="periods"):
        avoided_energy(base, energy[:-1], drivers)
    with pytest.raises(InputError, match="option"):
        avoided_energy(base, energy, drivers, option="A")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="fraction is zero"):
        fractional_savings_uncertainty(0.1, 0.0, n=12, m=12)


def test_caltrack_polynomial_worked_examples() -> None:
    """energy-analytics.md §2.4.

    Monthly, M = 12: −0.00022·144 + 0.03306·12 + 0.94054 = 1.30558 → FSU = 0.35594 ×
    1.30558/1.26 = 0.36881 (≈ 0.37).
    Daily: n = 365, ρ = 0.5 (n' = 121.667), CV 20 %, F 10 %, m = 365, M = 12:
    −0.00024·144 + 0.03535·12 + 1.00286 = 1.39250; t(0.95, 363) = 1.6490;
    sqrt(3 · (1 + 2/121.667)/365) = 0.091402 → FSU = 1.6490·1.3925·0.2·0.091402/0.1 = 0.4198.
    """
    from tansuan.analytics.savings import correction_factor

    assert correction_factor("caltrack_monthly", 12) == pytest.approx(1.30558, abs=1e-5)
    monthly = fractional_savings_uncertainty(0.05, 0.10, n=12, m=12, correction="caltrack_monthly")
    assert monthly == pytest.approx(0.36881, abs=5e-4)
    daily = fractional_savings_uncertainty(
        0.20, 0.10, n=365, m=365, rho=0.5, correction="caltrack_daily", months=12
    )
    assert daily == pytest.approx(0.4198, abs=1e-3)
    with pytest.raises(InputError, match="unknown FSU correction"):
        correction_factor("nmecr")  # type: ignore[arg-type]
