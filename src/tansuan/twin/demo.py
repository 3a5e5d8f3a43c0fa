"""The demo sites shipped with the package and their twin settings.

``shipyard`` (default): scheduled remote control of the fans starts
:data:`INTERVENTION_BEFORE_END` days before the end of the history, so a year of
history shows months before and after. ``coal-unit`` and ``cement`` run around the clock.
"""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from pathlib import Path

from tansuan import clock
from tansuan.errors import NotFound
from tansuan.site.model import Site, SiteModel
from tansuan.site.validate import load
from tansuan.twin import DEFAULT as DEFAULT  # re-exported: the demo sites live here
from tansuan.twin import DEMOS as DEMOS
from tansuan.twin.calendar import ShiftCalendar
from tansuan.twin.plant import TwinSpec

#: Days before the history's end at which the shipyard's fan control starts.
INTERVENTION_BEFORE_END = 120
#: The shipyard's compressor that starts leaking, how many days before the history's end,
#: and the extra loaded share the leak costs: a degradation for the findings page.
LEAK_DEVICE, LEAK_BEFORE_END, LEAK_SHARE = "compressor-1", 21, 0.15
#: The energy meter that measures the fans of the intervention, per demo site: the node to
#: verify the saving on (``tansuan analyse --node``, the dashboard's savings page).
SAVINGS_NODE = {"shipyard": "hull-shop-fan-feeder"}


def interventions(data_dir: Path, site: str) -> list[dict[str, str]]:
    """The interventions the twin recorded for ``site`` in its state file (``tansuan demo``
    writes it): ``{"day", "node", "kind"}`` each, newest first. The node is the state's
    ``savings_node`` or the demo's :data:`SAVINGS_NODE`; none without either."""
    # deferred: twin.history loads the ingestor and numpy; the web pages import this module
    from tansuan.twin.history import load_state, state_path

    state = load_state(state_path(data_dir, site))
    node = (state or {}).get("savings_node") or SAVINGS_NODE.get(site)
    if not state or not state.get("intervention") or node is None:
        return []
    return [{"day": str(state["intervention"]), "node": node, "kind": "fan_schedule"}]


def site_file(name: str) -> Path:
    """The shipped YAML of demo site ``name``."""
    if name not in DEMOS:
        raise NotFound(f"no demo site {name!r}; one of {', '.join(DEMOS)}", field="site")
    return Path(str(resources.files("tansuan.twin") / "sites" / f"{name}.yaml"))


def site_model(name: str) -> SiteModel:
    return load(site_file(name))


def site(name: str) -> Site:
    model = site_model(name)
    return model.sites()[0]


def spec(
    name: str, *, seed: int = 7, end: dt.date | None = None, intervention: dt.date | None = None
) -> TwinSpec:
    """The twin settings of demo ``name`` for a history ending on local day ``end``."""
    end = end or clock.today()
    if name == "shipyard":
        return TwinSpec(
            seed=seed,
            calendar=ShiftCalendar(),
            intervention=intervention or end - dt.timedelta(days=INTERVENTION_BEFORE_END),
            base_load_kw=1200.0,
            production_t_per_shift_h=18.0,
            production_series="steel-processed",
            leak=(LEAK_DEVICE, end - dt.timedelta(days=LEAK_BEFORE_END), LEAK_SHARE),
        )
    if name == "coal-unit":
        return TwinSpec(seed=seed, continuous=True, production_series=None)
    if name == "cement":
        return TwinSpec(seed=seed, continuous=True, base_load_kw=1500.0)
    raise NotFound(f"no demo site {name!r}; one of {', '.join(DEMOS)}", field="site")


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def shift_calendar(name: str) -> str:
    """The demo plant's working calendar in the form of ``TANSUAN_SHIFT_CALENDAR`` (whole
    hours, shifts widened to the hour), for the findings and the forecasts.

    >>> shift_calendar("shipyard")
    'mon=07-16,16-24;tue=07-16,16-24;wed=07-16,16-24;thu=07-16,16-24;fri=07-16,16-24;sat=07-16,16-24;closed=02-01..02-10,10-01..10-07'
    >>> shift_calendar("cement")
    'mon-sun=00-24'
    """
    twin = spec(name)
    if twin.continuous:
        return "mon-sun=00-24"
    cal = twin.calendar
    hours = ",".join(f"{math.floor(a):02d}-{math.ceil(b):02d}" for a, b in cal.shifts)
    entries = [f"{_DAY_NAMES[d]}={hours}" for d in cal.workdays]
    if cal.holidays:
        closed = ",".join(f"{m:02d}-{a:02d}..{m:02d}-{b:02d}" for m, a, b in cal.holidays)
        entries.append(f"closed={closed}")
    return ";".join(entries)
