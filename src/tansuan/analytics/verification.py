"""Whether a baseline model may verify savings: ASHRAE Guideline 14 calibration criteria.

IPMVP reports savings as *verified* only against a baseline model that represents the
baseline period; ASHRAE Guideline 14 gives the acceptance test (energy-analytics.md §0,
§2.2). A baseline passes when, for the resolution of its data,

* CV(RMSE) ≤ the G14 calibration limit (monthly 15 %, hourly 30 %),
* |NMBE|   ≤ the G14 calibration limit (monthly 5 %, hourly 10 %),
* R²       ≥ the project's documented floor (DOE 50001 Ready / EnPI Lite, 0.5),

all read from ``analytics_criteria.csv`` through :func:`criterion`. G14 states limits for
monthly and hourly data only; daily (and finer) data are held to the hourly row, monthly
(and coarser, e.g. billing) data to the monthly row.

:func:`verdict` is pure: a baseline summary (as :func:`tansuan.analytics.baseline.summary`
returns it) in, a verdict out. The savings view, ``tansuan analyse`` and the savings page
all call it, so the rule lives here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tansuan.analytics.reference import criterion
from tansuan.errors import InputError

Resolution = Literal["hourly", "daily", "monthly"]

#: The message shown with a failing verdict (zh-CN / en).
NOT_VERIFIABLE = "此基线模型不足以核证节能量 / not verifiable with this model"


@dataclass(frozen=True)
class Failure:
    """One failed criterion: its name, the baseline's value and the limit (as text)."""

    criterion: str
    value: float
    limit: str


@dataclass(frozen=True)
class Verdict:
    """Whether savings against the baseline are verifiable, and the criteria it fails."""

    verifiable: bool
    failing: tuple[Failure, ...]
    resolution: Resolution

    def as_dict(self) -> dict[str, Any]:
        """JSON fields added to a savings answer (``verifiable``, ``failing``, …)."""
        return {
            "verifiable": self.verifiable,
            "failing": [
                {"criterion": f.criterion, "value": f.value, "limit": f.limit} for f in self.failing
            ],
            "verification": {
                "basis": "ASHRAE Guideline 14 calibration (CV(RMSE), NMBE) at "
                f"{_row(self.resolution)} resolution; R² per DOE 50001 Ready / EnPI Lite",
                "message": None if self.verifiable else NOT_VERIFIABLE,
            },
        }


def _row(resolution: Resolution) -> Literal["hourly", "monthly"]:
    if resolution not in ("hourly", "daily", "monthly"):
        raise InputError(f"unknown data resolution {resolution!r}", field="resolution")
    return "monthly" if resolution == "monthly" else "hourly"


def verdict(baseline: Mapping[str, Any], resolution: Resolution = "daily") -> Verdict:
    """The G14 verdict on a baseline summary (keys ``cv_rmse_pct``, ``nmbe_pct``, ``r2``).

    Raises
    ------
    InputError
        An unknown resolution or a summary without the statistics.
    """
    row = _row(resolution)
    try:
        cv = float(baseline["cv_rmse_pct"])
        nmbe = float(baseline["nmbe_pct"])
        r2 = float(baseline["r2"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"baseline summary lacks {exc}", field="baseline") from exc
    cv_limit = criterion("g14_calibration_cvrmse", row)
    nmbe_limit = criterion("g14_calibration_nmbe", row)
    r2_min = criterion("doe_validity", "r2_min")
    failing: list[Failure] = []
    # A NaN statistic (e.g. a zero mean) fails: nothing is verified against it.
    if not cv <= cv_limit:
        failing.append(Failure("CV(RMSE) [%]", cv, f"≤ {cv_limit:g} %"))
    if not abs(nmbe) <= nmbe_limit:
        failing.append(Failure("NMBE [%]", nmbe, f"±{nmbe_limit:g} %"))
    if not r2 >= r2_min:
        failing.append(Failure("R²", r2, f"≥ {r2_min:g}"))
    return Verdict(not failing, tuple(failing), resolution)
