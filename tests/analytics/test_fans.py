"""Affinity laws: the reference's worked figures."""

from __future__ import annotations

import pytest

from tansuan.analytics.fans import check_speed_saving, power_ratio, speed_for_saving
from tansuan.errors import InputError


def test_cube_law_figures() -> None:
    """DOE tip sheet #11: 20 % slower → 0.8³ = 0.512, about 50 % less power.
    energy-analytics.md §5.3: 30 % saving needs N2/N1 = 0.7^(1/3) = 0.8879 (≈ 11 % slower)."""
    assert power_ratio(0.8) == pytest.approx(0.512)
    assert speed_for_saving(0.30) == pytest.approx(0.8879, abs=1e-4)


def test_plausibility_of_a_fan_claim() -> None:
    """A 30 % saving at 90 % speed: bound 1 − 0.729 = 27.1 % (+2 pp margin) → implausible;
    at 85 % speed: bound 38.6 % → plausible."""
    assert not check_speed_saving(0.30, 0.90).plausible
    assert check_speed_saving(0.30, 0.85).plausible
    with pytest.raises(InputError, match="saving"):
        speed_for_saving(1.2)
