"""Benchmark of the domain methods against bare baselines in the same run.

Prints one JSON line: medians (seconds) and ratios for
* CEMS: a year of hourly data (8 760 h) for many stacks through ``cems_co2`` (with wet→dry,
  %vol→mg/m3, validity) vs. the bare numpy product ``C × Q × 1e-6`` of eq. (33);
* combustion: 10 000 traced ``combustion()`` calls vs. the bare float formula.

Run: ``.venv/bin/python bench/domain_methods.py``
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

import numpy as np

from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.cems import CemsConstants, cems_co2
from tansuan.domain.combustion import combustion
from tansuan.domain.gases import gwp_set
from tansuan.domain.result import given


def median_seconds(fn: Callable[[], object], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    catalog = shipped_catalog()
    gwp = gwp_set("AR5")
    constants = CemsConstants.from_catalog(catalog)
    hours = 8760 * 100  # 100 stacks × one year of hours
    rng = np.random.default_rng(0)
    pct = rng.uniform(10, 14, hours)
    flow = rng.uniform(1e5, 2e5, hours)
    minutes = rng.integers(40, 61, hours).astype(float)

    def cems_full() -> object:
        return cems_co2(
            concentration=pct, concentration_unit="%vol", flow=flow, flow_unit="m**3/h",
            constants=constants, gwp=gwp, basis="wet", moisture=0.08, valid_minutes=minutes,
        )  # fmt: skip

    mg = pct * 1e4 * 44.009 / 22.4 / 0.92

    def cems_bare() -> object:
        return float((mg * flow * 1e-6)[minutes >= 45].sum())

    ncv = catalog.lookup("ncv", "diesel").parameter("ncv", "GJ/t")
    cc = catalog.lookup("carbon_per_heat", "diesel").parameter("cc", "tC/GJ")
    of = catalog.lookup("oxidation", "diesel").parameter("of", "dimensionless")
    ratio = catalog.constant("ratio", "co2_per_c", unit="tCO2/tC")
    calls = 10_000

    def combustion_traced() -> object:
        for i in range(calls):
            combustion(fuel="diesel", amount=given("fuel_t", float(i), "t"), ncv=ncv,
                       carbon_per_heat=cc, oxidation=of, co2_per_c=ratio, gwp=gwp)  # fmt: skip
        return None

    def combustion_bare() -> object:
        total = 0.0
        for i in range(calls):
            total += float(i) * 42.652 * 0.0202 * 0.98 * 44 / 12
        return total

    cems_s, cems_bare_s = median_seconds(cems_full), median_seconds(cems_bare)
    comb_s, comb_bare_s = median_seconds(combustion_traced, 3), median_seconds(combustion_bare, 3)
    print(
        json.dumps(
            {
                "cems_hours": hours,
                "cems_median_s": round(cems_s, 5),
                "cems_bare_median_s": round(cems_bare_s, 5),
                "cems_ratio": round(cems_s / cems_bare_s, 2),
                "cems_hours_per_s": round(hours / cems_s),
                "combustion_calls": calls,
                "combustion_median_s": round(comb_s, 5),
                "combustion_bare_median_s": round(comb_bare_s, 5),
                "combustion_ratio": round(comb_s / comb_bare_s, 1),
                "combustion_us_per_call": round(comb_s / calls * 1e6, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
