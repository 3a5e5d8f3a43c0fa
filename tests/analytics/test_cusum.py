"""CUSUM with planted truth: a device degrading by a known amount from a known day."""

from __future__ import annotations

import numpy as np
import pytest

from tansuan.analytics.baseline import fit_baseline
from tansuan.analytics.cusum import cusum, degradation
from tansuan.errors import InputError

#: The promise the tests hold the detector to [days]: alarm at most this long after the
#: degradation begins, and the estimated start within this many days of the true one.
DETECT_WITHIN_DAYS = 10
START_WITHIN_DAYS = 5


def _compressor(seed: int, *, degrade_from: int | None, degrade_by: float) -> tuple:
    """A compressor: kWh/day = 300 + 2·production [t] + noise σ = 10 kWh (~2.2 % of mean).

    180 baseline days, then 180 monitoring days; from ``degrade_from`` (monitoring day index)
    consumption is ``degrade_by`` higher (multiplicative).
    """
    rng = np.random.default_rng(seed)
    n = 360
    production = rng.uniform(50, 150, n)
    energy = 300 + 2 * production + rng.normal(0, 10, n)
    if degrade_from is not None:
        energy[180 + degrade_from :] *= 1 + degrade_by
    base = fit_baseline(energy[:180], {"production": production[:180]})
    expected = base.predict({"production": production[180:]})
    return energy[180:], expected, base


def test_an_eight_percent_degradation_from_day_100_is_detected_and_dated() -> None:
    """Shift 8 % of ~500 kWh = 40 kWh = 4σ: with k = 0.5, h = 5 the alarm comes in ~2 days."""
    actual, expected, base = _compressor(11, degrade_from=100, degrade_by=0.08)
    result = cusum(actual, expected, base.rmse)
    found = degradation(result)
    assert found is not None
    assert 100 <= found.alarm_index <= 100 + DETECT_WITHIN_DAYS
    assert abs(found.start_index - 100) <= START_WITHIN_DAYS
    assert found.shift_fraction == pytest.approx(0.08, abs=0.03)


@pytest.mark.parametrize("percent", [4, 8, 15])
def test_detection_holds_over_many_noise_draws(percent: int) -> None:
    """20 random devices per size (4 % = 2σ): ≥ 19 of 20 detected and dated in time."""
    good = 0
    for seed in range(20):
        actual, expected, base = _compressor(seed, degrade_from=120, degrade_by=percent / 100)
        found = degradation(cusum(actual, expected, base.rmse))
        if (
            found is not None
            and 120 <= found.alarm_index <= 120 + DETECT_WITHIN_DAYS
            and abs(found.start_index - 120) <= START_WITHIN_DAYS
        ):
            good += 1
    assert good >= 19


def test_a_healthy_device_shows_no_degradation_at_the_end() -> None:
    """No planted shift: no sustained increase in 19 of 20 draws (isolated alarms may occur)."""
    flagged = 0
    for seed in range(20):
        actual, expected, base = _compressor(seed, degrade_from=None, degrade_by=0.0)
        found = degradation(cusum(actual, expected, base.rmse))
        if found is not None and found.alarm_index < 150:
            flagged += 1
    assert flagged <= 1


def test_cusum_change_equals_energy_lost() -> None:
    """Actual = expected + 2 on periods 3..5: the CUSUM rises by 6 between them."""
    expected = np.full(8, 10.0)
    actual = expected.copy()
    actual[3:6] += 2
    result = cusum(actual, expected, 1.0)
    assert result.energy_between(3, 5) == pytest.approx(6.0)
    assert result.cumulative[-1] == pytest.approx(6.0)


def test_tabular_sums_by_hand() -> None:
    """z = 1, 1, 1, 1, 3 with k = 0.5, h = 4: S_H = 0.5, 1.0, 1.5, 2.0, 4.5 → alarm at t = 4.

    Start = 0 (S_H zero before t = 0); N = 5; shift = σ(k + S/N) = 0.5 + 4.5/5 = 1.4.
    """
    result = cusum([1, 1, 1, 1, 3], [0, 0, 0, 0, 0], 1.0, k=0.5, h=4.0)
    assert result.s_high.tolist() == pytest.approx([0.5, 1.0, 1.5, 2.0, 4.5])
    first = result.first
    assert first is not None and first.alarm_index == 4 and first.start_index == 0
    assert first.shift == pytest.approx(1.4)


def test_a_saving_is_detected_as_a_decrease() -> None:
    result = cusum(np.full(20, 90.0), np.full(20, 100.0), 5.0)
    assert result.first is not None and result.first.direction == "decrease"
    assert degradation(result) is None


def test_bad_input() -> None:
    with pytest.raises(InputError, match="sigma"):
        cusum([1, 2], [1, 2], 0.0)
    with pytest.raises(InputError, match="periods"):
        cusum([1, 2, 3], [1, 2], 1.0)


def test_siegmund_arl_matches_the_textbook_table() -> None:
    """Montgomery, Introduction to SQC, Table 9.3 (k = 1/2): the two-sided tabular CUSUM's
    in-control ARL is 168 for h = 4 and 465 for h = 5. Two one-sided schemes combine as
    1/ARL = 1/ARL⁺ + 1/ARL⁻ = 2/ARL⁺, so ARL⁺/2 should match (Siegmund's approximation
    is within about 1 % there)."""
    from tansuan.analytics.cusum import in_control_arl

    assert in_control_arl(4.0, 0.5) / 2 == pytest.approx(168, rel=0.02)
    assert in_control_arl(5.0, 0.5) / 2 == pytest.approx(465, rel=0.02)


def test_decision_interval_grows_with_the_devices_watched() -> None:
    """One device-day keeps the table's h = 5; 300 devices × 30 days (9 000 device-days)
    need ARL⁺ ≥ 9 000 / 0.1 = 90 000 periods, which h = 5 (ARL⁺ ≈ 938) does not give."""
    from tansuan.analytics.cusum import decision_interval, in_control_arl

    assert decision_interval(1) == 5.0
    h = decision_interval(9_000)
    assert h > 5.0
    assert 9_000 / in_control_arl(h) <= 0.1 + 1e-9
    assert 9_000 / in_control_arl(h - 0.05) > 0.1
