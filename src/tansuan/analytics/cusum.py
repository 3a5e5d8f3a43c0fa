"""CUSUM of baseline residuals: the M&T chart and a tabular detection rule.

Convention (energy-analytics.md §4.1): ``d_t = E_actual − E_expected``; a rising CUSUM is
over-consumption. Detection uses the tabular (decision-interval) CUSUM of Page as given by
Montgomery & Runger §16-10 on standardised residuals ``z_t = d_t / σ``::

    S_H,t = max(0, z_t − k + S_H,t−1)      deterioration
    S_L,t = max(0, −z_t − k + S_L,t−1)     improvement

An alarm is raised when S > h. The change is estimated to have begun the period after S
was last zero, and the new mean level is ``σ·(k + S/N)`` above (or below) the expected one,
with N the number of consecutive periods with S > 0 (same source). k and h default to the
values in ``analytics_criteria.csv`` (k = 0.5σ, h = 5σ).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tansuan.analytics.reference import criterion
from tansuan.errors import InputError

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Detection:
    """A CUSUM alarm.

    Attributes
    ----------
    direction
        ``"increase"`` (over-consumption, degradation) or ``"decrease"`` (saving).
    alarm_index
        Index of the period at which S first exceeded h.
    start_index
        Estimated first period of the change.
    shift
        Estimated shift of the mean [energy unit per period] (signed).
    shift_fraction
        ``shift`` divided by the mean expected energy over the changed periods.
    """

    direction: Literal["increase", "decrease"]
    alarm_index: int
    start_index: int
    shift: float
    shift_fraction: float


@dataclass(frozen=True)
class Cusum:
    """The CUSUM chart and the tabular statistics of a monitoring period."""

    deviation: Array = field(repr=False)
    expected: Array = field(repr=False)
    cumulative: Array = field(repr=False)
    s_high: Array = field(repr=False)
    s_low: Array = field(repr=False)
    sigma: float
    k: float
    h: float
    detections: tuple[Detection, ...]

    @property
    def first(self) -> Detection | None:
        """The first alarm, if any."""
        return self.detections[0] if self.detections else None

    def energy_between(self, start: int, end: int) -> float:
        """Energy lost (+) or saved (−) between two periods: the change in CUSUM."""
        before = self.cumulative[start - 1] if start > 0 else 0.0
        return float(self.cumulative[end] - before)


def cusum(
    actual: ArrayLike,
    expected: ArrayLike,
    sigma: float,
    *,
    k: float | None = None,
    h: float | None = None,
    restart: bool = True,
) -> Cusum:
    """Run the CUSUM of ``actual − expected``.

    Parameters
    ----------
    actual, expected
        Measured and baseline-predicted energy per period [energy unit].
    sigma
        σ of the baseline residuals [energy unit] (``Baseline.rmse``).
    k, h
        Reference value and decision interval [σ]; default from the table.
    restart
        After an alarm, reset both sums and keep monitoring (report every alarm).
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape or a.ndim != 1:
        raise InputError(f"actual has {a.shape} periods, expected has {e.shape}", field="actual")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(e))):
        raise InputError("actual and expected must not contain gaps", field="actual")
    if not sigma > 0:
        raise InputError(f"sigma must be positive, got {sigma}", field="sigma")
    k = criterion("cusum_design", "k") if k is None else k
    h = criterion("cusum_design", "h") if h is None else h
    d = a - e
    z = d / sigma
    s_hi = np.zeros_like(z)
    s_lo = np.zeros_like(z)
    detections: list[Detection] = []
    hi = lo = 0.0
    last_zero_hi = last_zero_lo = -1
    for t, zt in enumerate(z):
        hi = max(0.0, zt - k + hi)
        lo = max(0.0, -zt - k + lo)
        if hi == 0.0:
            last_zero_hi = t
        if lo == 0.0:
            last_zero_lo = t
        s_hi[t], s_lo[t] = hi, lo
        for direction, s, last_zero in (
            ("increase", hi, last_zero_hi),
            ("decrease", lo, last_zero_lo),
        ):
            if s > h:
                start = last_zero + 1
                run = t - last_zero
                shift = sigma * (k + s / run) * (1 if direction == "increase" else -1)
                mean_expected = float(np.mean(e[start : t + 1]))
                detections.append(
                    Detection(
                        direction=direction,  # type: ignore[arg-type]
                        alarm_index=t,
                        start_index=start,
                        shift=shift,
                        shift_fraction=shift / mean_expected if mean_expected else float("nan"),
                    )
                )
        if detections and detections[-1].alarm_index == t:
            if not restart:
                s_hi[t + 1 :] = np.nan
                s_lo[t + 1 :] = np.nan
                break
            hi = lo = 0.0
            last_zero_hi = last_zero_lo = t
    return Cusum(
        deviation=d,
        expected=e,
        cumulative=np.cumsum(d),
        s_high=s_hi,
        s_low=s_lo,
        sigma=sigma,
        k=k,
        h=h,
        detections=tuple(detections),
    )


def degradation(result: Cusum, *, gap: int = 10) -> Detection | None:
    """The sustained deterioration still going on at the end of the period, if any.

    With ``restart=True`` a persistent shift re-alarms every few periods (about
    h/(δ − k) periods for a shift of δσ), while a false alarm of in-control noise is
    isolated (average run length ~465 periods for k = 0.5, h = 5). A degradation is a run of
    at least two "increase" alarms, each within ``gap`` periods of the previous one, the
    last within ``gap`` periods of the end. ``gap`` [periods] is a heuristic, not a standard
    value.

    Its start is then dated by the maximum-likelihood change point of a persistent mean
    shift against the known baseline: τ maximising Σ_{t≥τ} z_t / sqrt(n − τ), searched
    between the run's first CUSUM start and its second alarm. This is more robust than the
    tabular start when an isolated false alarm happens to precede the run.
    """
    end = len(result.deviation) - 1
    run: list[Detection] = []
    for detection in reversed(result.detections):
        previous = run[-1].alarm_index if run else end
        if detection.direction != "increase" or previous - detection.alarm_index > gap:
            break
        run.append(detection)
    if len(run) < 2:
        return None
    run.reverse()
    z = result.deviation / result.sigma
    tail = np.cumsum(z[::-1])[::-1]  # tail[τ] = Σ_{t≥τ} z_t
    candidates = np.arange(run[0].start_index, run[1].alarm_index + 1)
    score = tail[candidates] / np.sqrt(len(z) - candidates)
    start = int(candidates[int(np.argmax(score))])
    alarm = next(d for d in run if d.alarm_index >= start)
    after = result.deviation[start:]
    shift = float(np.mean(after))
    mean_expected = float(np.mean(result.expected[start:]))
    return Detection(
        direction="increase",
        alarm_index=alarm.alarm_index,
        start_index=start,
        shift=shift,
        shift_fraction=shift / mean_expected if mean_expected else float("nan"),
    )


def in_control_arl(h: float, k: float | None = None) -> float:
    """Average run length to a false "increase" alarm of the one-sided tabular CUSUM with
    reference value ``k`` and decision interval ``h`` [σ], by Siegmund's approximation
    (Montgomery, *Introduction to Statistical Quality Control*, §9.1.3):
    ARL ≈ (exp(2kb) − 2kb − 1) / (2k²), b = h + 1.166.

    >>> round(in_control_arl(5.0, 0.5))
    938
    """
    k = criterion("cusum_design", "k") if k is None else k
    b = h + criterion("cusum_design", "siegmund_offset")
    x = 2.0 * k * b
    return float((np.exp(x) - x - 1.0) / (2.0 * k * k))


def decision_interval(watched: float, k: float | None = None) -> float:
    """The decision interval h [σ] for ``watched`` device-periods at once: the table's h,
    raised until the expected false alarms ``watched / ARL0(h)`` are at most the table's
    family-wise budget (so that a site of 300 devices does not show a few "degradations"
    of pure noise in every window)."""
    h = criterion("cusum_design", "h")
    budget = criterion("cusum_design", "familywise_false_alarms")
    lo, hi = h, 60.0
    if watched / in_control_arl(lo, k) <= budget:
        return lo
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if watched / in_control_arl(mid, k) <= budget:
            hi = mid
        else:
            lo = mid
    return hi
