"""The energy report: comprehensive energy consumption (GB/T 2589-2020) per month.

Energy amounts are the activity data the accounting results logged (fuel burnt,
electricity and heat purchased — one result set per source-month, so nothing is counted
twice); each is converted with its GB/T 2589 coefficient from the shipped reference table
(``tce_coefficient``, 当量值 calorific equivalent) by ``tansuan.domain.energy``. The equal
value (等价值) of electricity needs the year's average supply coal consumption, which is not
a constant: it is shown only when the reference tables hold a
``tce_coefficient_equal_value`` row for the year. Intensity is per unit of the site's
first production series; the budget is the site's ``energy_budget_tce`` (能耗双控),
compared pro rata by day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from tansuan.domain import months
from tansuan.domain.catalog import FactorCatalog, shipped_catalog
from tansuan.domain.energy import EnergyUse
from tansuan.domain.result import Origin, Parameter
from tansuan.errors import TansuanError
from tansuan.reports import charts
from tansuan.reports.common import cover, proposals_section
from tansuan.reports.gather import Inputs
from tansuan.reports.i18n import Lang, carrier_label
from tansuan.reports.model import Column, Report, Section, Table
from tansuan.reports.traces import activity_items

COEFFICIENT = "tce_coefficient"
EQUAL_VALUE = "tce_coefficient_equal_value"
ENERGY_METHODS = ("combustion", "electricity", "heat")


@dataclass(frozen=True)
class Use:
    """One carrier of one source-month, converted to standard coal."""

    month: str
    source_id: str
    set_id: int
    version: int
    carrier: str
    amount: float
    unit: str
    evidence: str
    coefficient: Parameter | None
    tce: float | None
    equal_coefficient: Parameter | None
    equal_tce: float | None


def _coefficient(catalog: FactorCatalog, kind: str, carrier: str, on: dt.date) -> Parameter | None:
    try:
        return catalog.lookup(kind, carrier, on=on).parameter(f"{kind}.{carrier}")
    except TansuanError:
        return None


def month_uses(inputs: Inputs, catalog: FactorCatalog) -> list[Use]:
    """Each energy use of the accounted months: the carrier, the amount from the result's
    trace, and its tce at the calorific and the equal-value coefficients where known."""
    out: list[Use] = []
    for (source_id, month), info in sorted(inputs.sets.items()):
        source = inputs.source(source_id)
        if source is None or source.method not in ENERGY_METHODS:
            continue
        carrier = source.fuel or source.method
        items = activity_items(info.trace)
        if not items or not isinstance(items[0].value, int | float):
            continue
        item = items[0]
        on = dt.date(int(month[:4]), int(month[5:]), 1)
        amount = Parameter(item.name, float(item.value), item.unit, Origin.INPUT, item.evidence)
        coefficient = _coefficient(catalog, COEFFICIENT, carrier, on)
        equal = _coefficient(catalog, EQUAL_VALUE, carrier, on)
        tce = EnergyUse(carrier, amount, coefficient).tce() if coefficient else None
        if equal is not None:
            equal_tce: float | None = EnergyUse(carrier, amount, equal).tce()
        elif coefficient is not None and carrier not in ("electricity", "heat"):
            equal, equal_tce = coefficient, tce  # fuels: equal value = calorific equivalent
        else:
            equal_tce = None
        out.append(
            Use(month, source_id, info.set_id, info.version, carrier, amount.value, amount.unit,
                item.evidence, coefficient, tce, equal, equal_tce)
        )  # fmt: skip
    return out


def build(inputs: Inputs, tx: Lang, *, catalog: FactorCatalog | None = None) -> Report:
    """The energy report for ``inputs.month`` (with the year to date), or for the year."""
    catalog = catalog or shipped_catalog()
    uses = month_uses(inputs, catalog)
    report_months = [inputs.label] if inputs.month is not None else inputs.months
    basis = tx(
        "GB/T 2589-2020《综合能耗计算通则》",
        "GB/T 2589-2020 General principles for calculation of comprehensive energy consumption",
    )
    report = Report(
        kind="energy",
        lang=tx.code,
        title=tx(f"{inputs.label} 能源消耗报告", f"Energy report {inputs.label}"),
        subtitle=inputs.company.name or inputs.company.id,
        site_id=inputs.site.id,
        period=inputs.label,
    )
    report.sections.append(cover(inputs, tx, basis))
    by_carrier = _by_carrier(uses, report_months, tx)
    report.sections.append(
        Section(
            title=tx(
                "一、综合能耗（按能源品种）", "1. Comprehensive energy consumption by carrier"
            ),
            tables=[by_carrier],
        )
    )
    monthly, cumulative, budget_line = _monthly(inputs, uses, tx)
    section = Section(
        title=tx(
            "二、逐月能耗、单位产品能耗与双控预算",
            "2. Monthly energy, intensity and the dual-control budget",
        ),
        tables=[monthly],
    )
    budget = inputs.site.energy_budget_tce
    if budget is None:
        section.paragraphs.append(
            tx(
                "站点模型未设定年度能耗预算（energy_budget_tce）。",
                "The site model sets no annual energy budget (energy_budget_tce).",
            )
        )
    else:
        used = cumulative[-1] if cumulative else 0.0
        allowed = budget_line[-1] if budget_line else 0.0
        state = tx("未超出", "within") if used <= allowed else tx("超出", "above")
        section.paragraphs.append(
            tx(
                f"年度预算 {budget:,.1f} tce；截至 {inputs.months[-1]} 累计 {used:,.3f} tce，"
                f"按天折算的预算进度 {allowed:,.3f} tce，{state}进度（已用 {used / budget:.1%}）。",
                f"Annual budget {budget:,.1f} tce; {used:,.3f} tce used to the end of "
                f"{inputs.months[-1]} against {allowed:,.3f} tce pro rata by day: {state} the "
                f"trajectory ({used / budget:.1%} of the year's budget used).",
            )
        )
    section.charts.append(charts.energy_trajectory(inputs.months, cumulative, budget_line, tx))
    report.sections.append(section)
    report.totals = {
        "energy_tce": sum(u.tce or 0.0 for u in uses if u.month in report_months),
        "ytd_tce": cumulative[-1] if cumulative else 0.0,
        "by_month_tce": {m: sum(u.tce or 0.0 for u in uses if u.month == m) for m in inputs.months},
    }
    report.sections.append(proposals_section(inputs, tx))
    report.trace = _trace(uses, tx)
    return report


def _by_carrier(uses: list[Use], months: list[str], tx: Lang) -> Table:
    table = Table(
        id="energy-carriers",
        title=tx(
            "综合能耗（当量值与等价值）", "Energy by carrier (calorific equivalent and equal value)"
        ),
        columns=[
            Column(tx("能源品种", "Carrier")),
            Column(tx("实物量", "Amount"), ",.3f"),
            Column(tx("单位", "Unit")),
            Column(tx("折标系数（当量值）", "Coefficient (equivalent)")),
            Column(tx("当量值", "Equivalent") + " [tce]", ",.3f"),
            Column(tx("折标系数（等价值）", "Coefficient (equal value)")),
            Column(tx("等价值", "Equal value") + " [tce]", ",.3f"),
        ],
    )
    grouped: dict[tuple[str, str], list[Use]] = defaultdict(list)
    for use in uses:
        if use.month in months:
            grouped[(use.carrier, use.unit)].append(use)
    total = 0.0
    equal_total: float | None = 0.0
    for (carrier, unit), group in sorted(grouped.items()):
        c = group[0].coefficient
        e = group[0].equal_coefficient
        tce = sum(u.tce or 0.0 for u in group) if c else None
        equal = sum(u.equal_tce or 0.0 for u in group) if e else None
        total += tce or 0.0
        equal_total = None if equal is None or equal_total is None else equal_total + equal
        table.add([
            carrier_label(tx, carrier), sum(u.amount for u in group), unit,
            f"{c.value:g} {c.unit}" if c else tx("无系数", "no coefficient"), tce,
            f"{e.value:g} {e.unit}" if e else tx("无数据", "not available"), equal,
        ])  # fmt: skip
    table.add(
        [tx("综合能耗", "Comprehensive energy consumption"), None, "", "", total, "", equal_total],
        total=True,
    )
    if any(u.coefficient is None for u in uses):
        missing = sorted({carrier_label(tx, u.carrier) for u in uses if u.coefficient is None})
        table.notes.append(
            tx(
                f"参考表中无折标系数，未计入：{', '.join(missing)}。",
                "No GB/T 2589 coefficient in the reference tables, not counted: "
                f"{', '.join(missing)}.",
            )
        )
    if equal_total is None:
        table.notes.append(
            tx(
                "电力等价值按当年平均供电煤耗折算，不是常数；参考表中没有当年数值，故不报告等价值合计。",
                "The equal value of electricity uses the year's average supply coal consumption, "
                "which is not a constant; the reference tables hold none for this year, so no "
                "equal-value total is given.",
            )
        )
    return table


def _monthly(
    inputs: Inputs, uses: list[Use], tx: Lang
) -> tuple[Table, list[float], list[float] | None]:
    series = next(iter(inputs.production), None)
    unit = inputs.production_units.get(series or "", "")
    columns = [
        Column(tx("月份", "Month")),
        Column(tx("综合能耗（当量值）", "Energy (equivalent)") + " [tce]", ",.3f"),
        Column(tx("综合能耗（等价值）", "Energy (equal value)") + " [tce]", ",.3f"),
        Column(tx("产量", "Output") + (f" [{unit}]" if unit else ""), ",.3f"),
        Column(tx("单位产品能耗", "Intensity") + (f" [tce/{unit}]" if unit else ""), ".6f"),
        Column(tx("年累计", "Year to date") + " [tce]", ",.3f"),
        Column(tx("预算进度", "Budget pro rata") + " [tce]", ",.3f"),
        Column(tx("预算使用率", "Budget used") + " [%]", ".2f"),
    ]
    table = Table(
        id="energy-monthly",
        title=tx("逐月能耗与预算进度", "Monthly energy and budget trajectory"),
        columns=columns,
    )
    budget = inputs.site.energy_budget_tce
    incomplete = {str(p["period"]) for p in inputs.problems}  # no intensity for those months
    days_in_year = (dt.date(inputs.year + 1, 1, 1) - dt.date(inputs.year, 1, 1)).days
    cumulative: list[float] = []
    budget_line: list[float] = []
    running = 0.0
    for month in inputs.months:
        here = [u for u in uses if u.month == month]
        tce = sum(u.tce or 0.0 for u in here)
        equal = (
            None
            if any(u.equal_tce is None for u in here)
            else sum(u.equal_tce or 0.0 for u in here)
        )
        running += tce
        cumulative.append(running)
        first_next = months.first_day(months.index(month) + 1)
        elapsed = (first_next - dt.date(int(month[:4]), 1, 1)).days
        allowed = budget * elapsed / days_in_year if budget is not None else None
        if allowed is not None:
            budget_line.append(allowed)
        output = inputs.production.get(series, {}).get(month) if series else None
        table.add([
            tx.month(month), tce, equal, output,
            tce / output if output and month not in incomplete else None, running,
            allowed, running / budget * 100 if budget else None,
        ])  # fmt: skip
    if series is None:
        table.notes.append(
            tx(
                "站点模型中没有产量序列，未计算单位产品能耗。",
                "The site model has no production series, so no intensity is given.",
            )
        )
    return table, cumulative, (budget_line if budget is not None else None)


def _trace(uses: list[Use], tx: Lang) -> list[Table]:
    rows = Table(
        id="trace-energy",
        title=tx(
            "附录 A 数据溯源：能耗 → 活动数据 → 折标系数 → 来源",
            "Appendix A Trace: energy → activity data → coefficient → source",
        ),
        columns=[
            Column(tx("月份", "Month")),
            Column(tx("排放源", "Source")),
            Column(tx("结果版本", "Result set / version")),
            Column(tx("能源品种", "Carrier")),
            Column(tx("实物量", "Amount"), ".6g"),
            Column(tx("单位", "Unit")),
            Column(tx("证据", "Evidence")),
            Column(tx("折标系数编号", "Coefficient id")),
            Column(tx("当量值", "Equivalent") + " [tce]", ",.3f"),
        ],
    )
    refs: dict[str, Parameter] = {}
    for u in uses:
        coefficient_id = u.coefficient.factor_id if u.coefficient else ""
        result = f"#{u.set_id} v{u.version}"
        rows.add([u.month, u.source_id, result, carrier_label(tx, u.carrier), u.amount, u.unit,
                  u.evidence,
                  coefficient_id, u.tce])  # fmt: skip
        for p in (u.coefficient, u.equal_coefficient):
            if p is not None and p.factor_id:
                refs[p.factor_id] = p
    sources = Table(
        id="trace-sources",
        title=tx("附录 B 折标系数来源", "Appendix B Sources of the coefficients"),
        columns=[
            Column(tx("编号", "Id")),
            Column(tx("数值", "Value")),
            Column(tx("单位", "Unit")),
            Column(tx("可信度", "Confidence")),
            Column(tx("来源", "Source")),
        ],
    )
    for ident, p in sorted(refs.items()):
        sources.add([ident, f"{p.value:g}", p.unit, p.confidence or "", p.source])
    return [rows, sources]
