"""CEMS vs calculation cross-check."""

from __future__ import annotations

import pytest

from tansuan.accounting.crosscheck import cross_check


def test_relative_difference_and_flag() -> None:
    """Jan: (103 − 100)/100 = +3 % → not flagged at 5 %; Feb: (90 − 100)/100 = −10 % → flagged."""
    checks = cross_check(
        {"2025-01": 103, "2025-02": 90, "2025-03": 5},
        {"2025-01": 100, "2025-02": 100, "2025-04": 7},
        threshold=0.05,
    )
    assert [c.period for c in checks] == ["2025-01", "2025-02"]
    assert checks[0].relative_difference == pytest.approx(0.03)
    assert not checks[0].flagged
    assert checks[1].relative_difference == pytest.approx(-0.10)
    assert checks[1].flagged


def test_zero_measured_with_nonzero_calculated_is_flagged() -> None:
    (check,) = cross_check({"2025-01": 10}, {"2025-01": 0}, threshold=0.05)
    assert check.relative_difference is None and check.flagged


def test_an_unresolved_month_is_missing_never_a_pass() -> None:
    """A month where either side is failed or missing is listed as ``missing`` whatever
    the other side holds: no relative difference, no flag, no ✓."""
    found = cross_check({"2024-01": 1_000_000}, {}, 0.05, {"2024-01", "2024-02"})
    assert [(c.period, c.state, c.calculated_co2_g, c.measured_co2_g) for c in found] == [
        ("2024-01", "missing", 1_000_000, None),
        ("2024-02", "missing", None, None),
    ]
    assert all(c.relative_difference is None and not c.flagged for c in found)
