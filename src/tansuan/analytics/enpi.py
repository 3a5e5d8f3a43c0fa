"""Energy performance indicators per line and site (ISO 50006): the boundaries and the
normalised EnPI. The report, read from the store, is :mod:`tansuan.views.enpi`.

For the site and every area of kind ``line`` that has an energy boundary:

* the energy of each month [kWh] of the node's boundary meters (:func:`boundary`): for
  the site, the meters its purchased-electricity sources read (the grid meter), else its
  meters that feed nothing else; for a line, the meters tagged ``feeds:<line>``, else the
  meters inside it, else its devices' own counters — never a submeter together with the
  meter above it;
* a ratio EnPI, the specific consumption [kWh per unit of output], where the output is
  known: the site's ``production`` series (only in months wholly inside the window) for
  the site, the production/output points of the line's devices for a line (ISO 50006
  §4.4.2: a ratio of measured values);
* a normalised EnPI, E_reporting / Ê_baseline: each node's daily energy is modelled on
  the days before ``baseline_end`` with the day type (working day or not in the shift
  calendar) as the relevant variable, and the reporting days' energy is divided by what
  that baseline expects for them (§4.4.4, a statistical model; < 1 is an improvement).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from tansuan.analytics.baseline import fit_baseline, normalised_enpi, summary
from tansuan.analytics.counters import energy_counters, output_counters
from tansuan.analytics.findings import ShiftCalendar
from tansuan.domain import months

#: Fewest baseline and reporting days for a normalised EnPI.
MIN_BASELINE_DAYS, MIN_REPORTING_DAYS = 14, 7


def nodes(site_model: Any) -> list[tuple[str, str, str]]:
    """``(node id, kind, name)``: the site, then every area of kind ``line``."""
    out = [(site_model.id, "site", site_model.name or site_model.id)]

    def walk(areas: Any) -> None:
        for area in areas:
            if area.kind == "line":
                out.append((area.id, "line", area.name or area.id))
            walk(area.areas)

    walk(site_model.areas)
    return out


def month_of(day: str) -> str:
    """``YYYY-MM`` of a ``YYYY-MM-DD`` day."""
    return day[:7]


def boundary(site_model: Any, node: str) -> list[Any]:
    """The energy points (counters) that measure ``node``'s energy without counting a
    submeter twice (see the module docstring); empty when it has none."""

    devices = [(path, d) for path, d in site_model.iter_devices()]
    if node == site_model.id:
        read = {ref.point for src in site_model.sources if src.method == "electricity"
                for ref in src.activity if ref.point}  # fmt: skip
        points = [p for _, d in devices for p in energy_counters(d) if p.id in read]
        if points:
            return points
        tops = [
            d
            for _, d in devices
            if d.device_class == "meter" and not any(t.startswith("feeds:") for t in d.tags)
        ]
        return [p for d in tops for p in energy_counters(d)]
    # The feeder(s) of the line, else the meters inside it, else its devices' own counters:
    # each level measures the next, so only the highest one present is summed.
    feeders = [d for _, d in devices if f"feeds:{node}" in d.tags]
    inside = [d for path, d in devices if node in path and d.device_class == "meter"]
    chosen = feeders or inside or [d for path, d in devices if node in path]
    return [p for d in chosen for p in energy_counters(d)]


def output_unit(site_model: Any, node: str) -> str | None:
    """The unit of ``node``'s output: the site's ``production`` series, a line's first
    production/output counter; None without one."""
    if node == site_model.id:
        return next((s.unit for s in site_model.series if s.kind == "production"), None)
    for path, device in site_model.iter_devices():
        if node in path:
            for point in output_counters(device):
                return str(point.unit)
    return None


def whole_months(start: dt.date, end: dt.date) -> set[str]:
    """The ``YYYY-MM`` months that lie wholly inside [start, end)."""
    out: set[str] = set()
    index = months.index_of(start)
    while True:
        first = months.first_day(index)
        after = months.first_day(index + 1)
        if after > end:
            return out
        if first >= start:
            out.add(f"{first:%Y-%m}")
        index += 1


def normalised(
    days: dict[str, float], baseline_end: dt.date, calendar: ShiftCalendar
) -> dict[str, Any]:
    """``normalised`` (E_reporting / Ê_baseline) and the baseline's summary, or the reason
    there is none."""
    dates = [dt.date.fromisoformat(d) for d in sorted(days)]
    energy = np.array([days[d.isoformat()] for d in dates])
    base = np.array([d < baseline_end for d in dates])
    if base.sum() < MIN_BASELINE_DAYS or (~base).sum() < MIN_REPORTING_DAYS:
        return {"normalised": None, "baseline": None,
                "note": f"需要至少 {MIN_BASELINE_DAYS} 个基准日和 {MIN_REPORTING_DAYS} 个报告日 / "
                        f"needs {MIN_BASELINE_DAYS} baseline and {MIN_REPORTING_DAYS} "
                        "reporting days"}  # fmt: skip
    off = np.array([0.0 if calendar.works(d) else 1.0 for d in dates])
    drivers = {"day_off": off} if 0 < off[base].sum() < base.sum() else {}
    model = fit_baseline(energy[base], {k: v[base] for k, v in drivers.items()})
    reporting = {k: v[~base] for k, v in drivers.items()} or {"_days": np.zeros((~base).sum())}
    return {
        "normalised": normalised_enpi(model, energy[~base], reporting),
        "baseline": summary(model),
        "reporting_kwh": float(energy[~base].sum()),
        "expected_kwh": float(model.predict(reporting).sum()),
    }
