"""Small distribution helpers (Student t, normal) without scipy.

The Student-t CDF uses the regularised incomplete beta function evaluated by the
continued fraction of Numerical Recipes (Press et al., 3rd ed., §6.4); the quantile
inverts the CDF by bisection. Accuracy is ~1e-10, ample for confidence intervals.
"""

from __future__ import annotations

import math
from functools import cache
from statistics import NormalDist

from tansuan.errors import InputError

_NORMAL = NormalDist()


def _betacf(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(ln_front + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise InputError(f"degrees of freedom must be positive, got {df}", field="df")
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@cache
def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t (e.g. ``t_ppf(0.95, 10)`` = 1.812)."""
    if not 0.0 < q < 1.0:
        raise InputError(f"quantile must be in (0, 1), got {q}", field="q")
    lo, hi = -1e3, 1e3
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return 0.5 * (lo + hi)


def two_sided_p(t: float, df: float) -> float:
    """Two-sided p-value of a t statistic."""
    return 2.0 * (1.0 - t_cdf(abs(t), df))


def f_sf(f: float, d1: float, d2: float) -> float:
    """P(F > f) for the F distribution (overall-regression test)."""
    if f <= 0:
        return 1.0
    return betainc(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f))


def norm_cdf(z: float) -> float:
    """Standard normal CDF."""
    return _NORMAL.cdf(z)


def norm_ppf(q: float) -> float:
    """Standard normal quantile."""
    return _NORMAL.inv_cdf(q)
