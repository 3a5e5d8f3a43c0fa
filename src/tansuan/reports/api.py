"""The entry points: build a report, render it to bytes, issue it into the ledger.

``render(kind, site, year, month, fmt, lang) -> bytes`` is what the dashboard's download
buttons call (a draft: not logged, marked as such); ``issue_report`` is what
``tansuan report`` calls (logged, with a receipt).
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from tansuan import clock
from tansuan.accounting.periods import is_provisional, refuse_future
from tansuan.errors import InputError
from tansuan.ledger.log import Ledger
from tansuan.reports import annual, completeness, energy, inventory
from tansuan.reports.formats import FORMATS, render_format
from tansuan.reports.gather import gather, period_of
from tansuan.reports.i18n import Lang
from tansuan.reports.model import Report
from tansuan.reports.receipt import Issued, issue
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.store.documents import current_model

KINDS = ("annual", "inventory", "energy")

Progress = Callable[[str], None]


def build(
    store: Store,
    model: SiteModel,
    kind: str,
    site: str,
    year: int,
    month: int | None = None,
    lang: str = "zh",
    *,
    layout: str | None = None,
) -> Report:
    """Read the results and build the report (no rendering).

    ``annual`` and ``inventory`` cover the year, or one month with ``month``; ``energy``
    covers ``month`` with the year to date (or the whole year without it).
    """
    tx = Lang(lang)
    if kind not in KINDS:
        raise InputError(
            f"未知报告类型 / unknown report {kind!r}; use {', '.join(KINDS)}", field="kind"
        )
    if kind == "annual":
        layout = annual.layout_for(model.site(site), layout)
    # A future period is refused; one not yet complete is reported, marked provisional.
    period = period_of(year, month)
    today = clock.today(ZoneInfo(model.site(site).timezone))
    refuse_future(period, today)
    if kind == "annual":
        inputs = gather(store, model, site, year, month)
        report = annual.build(inputs, tx, layout or "generic")
    elif kind == "inventory":
        inputs = gather(store, model, site, year, month)
        report = inventory.build(inputs, tx)
    else:
        inputs = gather(store, model, site, year, month, through_month=True)
        report = energy.build(inputs, tx)
    report.provisional = is_provisional(period, today)
    # Failed or missing months: "incomplete — not for submission"; substituted share named.
    completeness.apply(report, completeness.of(inputs), tx)
    return report


def annual_guideline(model: SiteModel, site: str, lang: str = "zh") -> str:
    """What the annual report of ``site`` follows (its sector's layout and guideline), as the
    dashboard's download form shows it."""
    tx = Lang(lang)
    found = model.site(site)
    layout = annual.layout_for(found, None)
    name = (
        tx("年度报告：发电设施版式，", "Annual report: power-generation layout, ")
        if layout == "power"
        else tx("年度报告：行业通用版式，", "Annual report: generic layout, ")
    )
    return name + tx.guideline("power" if layout == "power" else found.sector or "general")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(
            f"未知格式 / unknown format {fmt!r}; use html, pdf or xlsx", field="format"
        )


def render(
    kind: str,
    site: str,
    year: int,
    month: int | None,
    fmt: str,
    lang: str = "zh",
    *,
    store: Store | None = None,
    model: SiteModel | None = None,
    layout: str | None = None,
) -> bytes:
    """The report as bytes of ``fmt`` — a draft, not logged in the ledger.

    Without ``store``/``model`` the store from Settings and its current site model are used.
    """
    _check_format(fmt)
    own = store is None
    store = store or Store()
    try:
        if model is None:
            model = current_model(store)
        report = build(store, model, kind, site, year, month, lang, layout=layout)
        tx = Lang(lang)
        draft = tx("草稿：未记入账本，无回执", "Draft: not logged in the ledger, no receipt")
        return render_format(report, fmt, draft=draft)
    finally:
        if own:
            store.close()


def issue_report(
    store: Store,
    model: SiteModel,
    ledger: Ledger,
    kind: str,
    site: str,
    year: int,
    month: int | None,
    fmt: str,
    lang: str = "zh",
    *,
    layout: str | None = None,
    progress: Progress | None = None,
) -> Issued:
    """Build, render and log the report; the result carries the receipt."""
    _check_format(fmt)
    say = progress or (lambda _: None)
    say("读取核算结果 / reading the accounting results")
    report = build(store, model, kind, site, year, month, lang, layout=layout)
    say(f"生成 {fmt.upper()} 并记入账本 / rendering {fmt.upper()} and logging it")
    return issue(store, ledger, report, fmt)
