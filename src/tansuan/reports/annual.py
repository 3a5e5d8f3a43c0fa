"""The annual GHG emission report (national ETS): MEE power-generation and generic layouts.

``layout="power"`` follows 《企业温室气体排放核算与报告指南 发电设施》 (附表 C.1–C.5 as
reproduced in docs/reports.md — the numbering beyond C.3 is [unverified]); ``"generic"``
follows the 2013–2015 sector guidelines (一–五 and 附表1–3). The layout is the site's
sector's (:func:`layout_for`): power only for ``sector: power``. Both render the current
accounting results; every emission is a sum of saved integer-gram lines.
"""

from __future__ import annotations

import re
from collections import defaultdict

from tansuan.domain.scope import Scope
from tansuan.errors import InputError
from tansuan.reports import charts
from tansuan.reports.common import cover, entity_facts, facilities, quality, sum_by, t
from tansuan.reports.evidence import attachments_table, evidence_intro, evidence_table
from tansuan.reports.gather import Inputs
from tansuan.reports.i18n import (
    Lang,
    fuel_label,
    parameter_header,
    parameter_label,
    unit_label,
    with_unit,
)
from tansuan.reports.model import Column, Report, Section, Table
from tansuan.reports.traces import (
    activity_items,
    appendix,
    fmt_value,
    is_constant,
    parameter_items,
)
from tansuan.site.model import Site

LAYOUTS = ("power", "generic")
PURCHASED = ("electricity", "heat")


def layout_for(site: Site, requested: str | None) -> str:
    """The layout of ``site``'s annual report: its sector's guideline.

    A site whose ``sector:`` is ``power`` reports under the power-generation guideline
    (附表 C.1–C.5); every other site — another published sector, ``general``, or no
    sector at all (a shipyard) — under the 2013–2015 sector guidelines' generic layout,
    never the power one. ``requested`` (``--layout``) may only confirm that choice.
    """
    layout = "power" if site.sector == "power" else "generic"
    if requested is None or requested == layout:
        return layout
    if requested not in LAYOUTS:
        raise InputError(
            f"未知版式 / unknown layout {requested!r}; use power or generic", field="layout"
        )
    sector = site.sector or "—"
    raise InputError(
        f"站点 {site.id} 的行业（sector）为 {sector}，年度报告按其行业指南使用 {layout} 版式，"
        f"不能使用 {requested}（发电设施版式仅适用于 sector: power 的站点）/ site {site.id}'s "
        f"sector is {sector}: its annual report follows that sector's guideline in the "
        f"{layout} layout, not {requested} (the power-generation layout is only for sites "
        "with sector: power)",
        field="layout",
    )


def build(inputs: Inputs, tx: Lang, layout: str = "generic") -> Report:
    """The annual report of ``inputs`` (a year) in ``layout`` (see :func:`layout_for`)."""
    guideline = tx.guideline("power" if layout == "power" else inputs.site.sector or "general")
    report = Report(
        kind="annual",
        lang=tx.code,
        title=_title(inputs, tx),
        subtitle=inputs.company.name or inputs.company.id,
        site_id=inputs.site.id,
        period=inputs.label,
    )
    report.sections.append(cover(inputs, tx, guideline))
    total_g = inputs.totals_g()
    report.totals = {
        "total_co2e_g": total_g,
        "by_source_co2e_g": {k[0]: v for k, v in sum_by(inputs.lines, "source").items()},
        "by_month_co2e_g": {k[0]: v for k, v in sum_by(inputs.lines, "period").items()},
        "market_co2e_g": sum(sum_by(inputs.lines, "source", market=True).values()),
    }
    titles = _titles(layout, tx)
    report.sections.append(
        Section(
            title=titles["entity"],
            paragraphs=[
                tx(
                    f"本单位按照{guideline}核算了{inputs.year}年度温室气体排放量，并填写了下列表格。",
                    f"The entity has accounted its {inputs.year} greenhouse-gas emissions under "
                    f"the {guideline} and filled in the tables below.",
                )
            ],
            facts=entity_facts(inputs, tx),
            tables=[_retitle(facilities(inputs, tx), titles["facilities"])],
        )
    )
    summary = Section(
        title=titles["emissions"],
        tables=[_summary(inputs, tx, titles["summary"]), _by_source(inputs, tx)],
    )
    summary.charts.append(charts.monthly_by_category(inputs, tx))
    report.sections.append(summary)
    monthly = Section(title=titles["monthly"])
    for source in inputs.site.sources:
        if source.method in PURCHASED:
            continue
        if any(key[0] == source.id for key in inputs.sets):
            monthly.tables.append(_source_months(inputs, tx, source.id, titles["source_table"]))
    if layout == "generic":
        report.sections.append(
            Section(title=titles["activity"], tables=[_annual_activity(inputs, tx)])
        )
        report.sections.append(
            Section(title=titles["factors"], tables=[_annual_factors(inputs, tx)])
        )
    if monthly.tables:
        report.sections.append(monthly)
    purchased = _purchased(inputs, tx, titles["purchased"])
    if purchased:
        report.sections.append(Section(title=titles["purchased"], tables=purchased))
    report.sections.append(
        Section(title=titles["production"], tables=[_production(inputs, tx, titles["production"])])
    )
    report.sections.append(quality(inputs, tx))
    report.sections.append(
        Section(
            title=titles["evidence"],
            paragraphs=[evidence_intro(tx)],
            tables=[evidence_table(inputs, tx)]
            # the attached files, when there are any (report-templates §2.3)
            + ([attachments_table(inputs, tx)] if inputs.attachments else []),
        )
    )
    report.sections.append(
        Section(
            title=tx("声明", "Declaration"),
            paragraphs=[
                tx(
                    "本报告主体承诺对本报告的真实性负责，如与实际情况不符，愿承担相应的法律责任。",
                    "The reporting entity declares this report true and reliable and bears legal "
                    "responsibility for any difference from the facts.",
                ),
                tx(
                    "法定代表人（签字）：__________　　日期：__________",
                    "Legal representative (signature): __________   Date: __________",
                ),
            ],
        )
    )
    report.trace = appendix(inputs, tx)
    return report


def _title(inputs: Inputs, tx: Lang) -> str:
    if inputs.month is None:
        return tx(
            f"{inputs.year}年度温室气体排放报告", f"Greenhouse-gas emission report {inputs.year}"
        )
    return tx(
        f"{inputs.year}年{inputs.month}月温室气体排放报告（月度）",
        f"Greenhouse-gas emission report {inputs.label} (month)",
    )


def _total_label(inputs: Inputs, tx: Lang) -> str:
    return tx("全年", "Year") if inputs.month is None else tx("合计", "Total")


def _titles(layout: str, tx: Lang) -> dict[str, str]:
    if layout == "power":
        return {
            "entity": tx("附表 C.1 重点排放单位基本信息", "Table C.1 Entity information"),
            "facilities": tx(
                "附表 C.2 机组及生产设施信息", "Table C.2 Units and production facilities"
            ),
            "emissions": tx("排放量汇总", "Emissions"),
            "summary": tx("排放量汇总（按排放类别）", "Emissions by category"),
            "monthly": tx(
                "附表 C.3 化石燃料燃烧及其他直接排放（按月）",
                "Table C.3 Fossil-fuel combustion and other direct sources, by month",
            ),
            "source_table": tx("附表 C.3", "Table C.3"),
            "purchased": tx(
                "附表 C.4 购入使用电力、热力排放表", "Table C.4 Purchased electricity and heat"
            ),
            "production": tx(
                "附表 C.5 生产数据及排放量汇总表", "Table C.5 Production data and emission summary"
            ),
            "evidence": tx("月度信息化存证数据表", "Monthly data-evidence table (月度信息化存证)"),
            "activity": "",
            "factors": "",
        }
    return {
        "entity": tx("一、企业基本情况", "1. The entity"),
        "facilities": tx("核算边界与主要排放设施", "Boundary and main emission facilities"),
        "emissions": tx("二、温室气体排放", "2. Greenhouse-gas emissions"),
        "summary": tx(
            "附表1 报告主体温室气体排放量汇总", "Table 1 Emission summary of the reporting entity"
        ),
        "monthly": tx(
            "附：各排放源月度活动水平与参数",
            "Annex: activity data and parameters of each source, by month",
        ),
        "source_table": tx("月度数据", "Monthly data"),
        "purchased": tx("净购入电力和热力", "Net purchased electricity and heat"),
        "production": tx("生产数据及排放强度", "Production and emission intensity"),
        "evidence": tx("月度信息化存证数据表", "Monthly data-evidence table (月度信息化存证)"),
        "activity": tx(
            "三、活动水平数据及来源说明（附表2）", "3. Activity data and their sources (Table 2)"
        ),
        "factors": tx(
            "四、排放因子数据及来源说明（附表3）", "4. Emission factors and their sources (Table 3)"
        ),
    }


def _retitle(table: Table, title: str) -> Table:
    table.title = title
    return table


def _summary(inputs: Inputs, tx: Lang, title: str) -> Table:
    table = Table(
        id="summary",
        title=title,
        columns=[
            Column(tx("排放类别", "Category")),
            Column(tx("范围", "Scope")),
            Column("tCO2e", ",.3f"),
        ],
    )
    by_method = sum_by(inputs.lines, "source_type", "scope")
    for (method, scope), grams in sorted(by_method.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        table.add([tx.method(method), tx.scope(scope), t(grams)])
    table.add([tx("排放总量", "Total emissions"), "", t(inputs.totals_g())], total=True)
    market = sum_by(inputs.lines, "source_type", "scope", market=True)
    for (method, scope), grams in sorted(market.items()):
        table.add(
            [
                tx.method(method)
                + tx("（并列报告，不计入总量）", " (reported beside, not in the total)"),
                tx.scope(scope),
                t(grams),
            ]
        )
    return table


def _by_source(inputs: Inputs, tx: Lang) -> Table:
    table = Table(
        id="by-source",
        title=tx("排放量（按排放源和气体）", "Emissions by source and gas"),
        columns=[
            Column(tx("排放源", "Source")),
            Column(tx("类别", "Category")),
            Column(tx("范围", "Scope")),
            Column(tx("气体", "Gas")),
            Column(tx("气体质量", "Mass of gas") + " [t]", ",.3f"),
            Column("tCO2e", ",.3f"),
        ],
    )
    mass: dict[tuple[str, str, str, str], int] = defaultdict(int)
    co2e: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for line in inputs.lines:
        key = (line.source, line.source_type, line.scope, line.gas)
        mass[key] += line.mass_g
        co2e[key] += line.co2e_g
    for key in sorted(co2e):
        table.add([key[0], tx.method(key[1]), tx.scope(key[2]), key[3], t(mass[key]), t(co2e[key])])
    return table


def _source_months(inputs: Inputs, tx: Lang, source_id: str, prefix: str) -> Table:
    """One source, month by month: activity, each parameter with its 取值方式, emission."""
    infos = [inputs.sets[(source_id, m)] for m in inputs.months if (source_id, m) in inputs.sets]
    names: list[tuple[str, str]] = []  # (name, unit) in order of first appearance
    kinds: dict[str, str] = {}
    for info in infos:
        for item in activity_items(info.trace):
            if (item.name, item.unit) not in names:
                names.append((item.name, item.unit))
                kinds[item.name] = "activity"
        for item in parameter_items(info.trace):
            if is_constant(item) or (item.name, item.unit) in names:
                continue
            names.append((item.name, item.unit))
            kinds[item.name] = "parameter"
    columns = [Column(tx("月份", "Month"))]
    for name, unit in names:
        columns.append(Column(parameter_header(tx, name, unit), ".6g"))
        columns.append(Column(tx("取值方式", "Value type"), nowrap=True))
    columns += [Column(tx("排放量", "Emission") + " [tCO2e]", ",.3f"), Column(tx("等级", "Grade"))]
    source = inputs.source(source_id)
    method = tx.method(source.method) if source else ""
    fuel = ""
    if source is not None and source.fuel:
        fuel = fuel_label(tx, source.fuel)
    elif source is not None and source.material:
        fuel = source.material
    table = Table(
        id=f"src-{source_id}",
        title=f"{prefix} {_source_name(inputs, source_id)} — {method}"
        + (f" · {fuel}" if fuel else ""),
        columns=columns,
    )
    emissions = sum_by(inputs.lines, "source", "period")
    activity_sum: dict[str, float] = defaultdict(float)
    for info in infos:
        values: dict[str, tuple[float | str, str]] = {}
        for item in activity_items(info.trace):
            values[item.name] = (item.value, tx.value_type("input"))
            if isinstance(item.value, int | float):
                activity_sum[item.name] += float(item.value)
        for item in parameter_items(info.trace):
            values.setdefault(item.name, (item.value, tx.value_type(item.origin)))
        row: list[str | int | float | None] = [tx.month(info.period)]
        for name, _ in names:
            value, kind = values.get(name, (None, ""))
            row += [
                value
                if isinstance(value, int | float)
                else (None if value is None else str(value)),
                kind,
            ]
        row += [t(emissions.get((source_id, info.period), 0)), info.grade]
        table.add(row)
    total: list[str | int | float | None] = [_total_label(inputs, tx)]
    for name, _ in names:
        total += [
            activity_sum[name] if kinds[name] == "activity" else None,
            tx.value_type("derived") if kinds[name] == "activity" else "",
        ]
    total += [t(sum(v for (s, _), v in emissions.items() if s == source_id)), ""]
    table.add(total, total=True)
    table.notes.append(
        tx(
            "年度排放量为各月排放量之和；参数取值方式：实测值 / 缺省值 / 计算值，来源见附录 A、B。",
            "The annual emission is the sum of the months; value types: measured / default / "
            "calculated; sources in Appendices A and B.",
        )
    )
    return table


def _purchased(inputs: Inputs, tx: Lang, title: str) -> list[Table]:
    sources = [
        s
        for s in inputs.site.sources
        if s.method in PURCHASED and any(k[0] == s.id for k in inputs.sets)
    ]
    if not sources:
        return []
    month_cols = [
        Column(tx.month(m) if tx.code == "en" else f"{int(m[5:])}月", ",.3f") for m in inputs.months
    ]
    activity = Table(
        id="purchased",
        title=title,
        columns=[
            Column(tx("项目", "Item")),
            Column(tx("单位", "Unit")),
            *month_cols,
            Column(_total_label(inputs, tx), ",.3f"),
        ],
    )
    emissions = sum_by(inputs.lines, "source", "period")
    for source in sources:
        unit = ""
        row_values: list[float | None] = []
        for m in inputs.months:
            info = inputs.sets.get((source.id, m))
            items = activity_items(info.trace) if info else []
            if items:
                unit = items[0].unit
                row_values.append(
                    float(items[0].value) if isinstance(items[0].value, int | float) else None
                )
            else:
                row_values.append(None)
        activity.add(
            [
                (source.name or source.id) + tx("购入量", " purchased"),
                unit_label(tx, unit),
                *row_values,
                sum(v for v in row_values if v is not None),
            ]
        )
    factor_row: list[str | int | float | None] = [tx("排放因子", "Emission factor"), ""]
    for m in inputs.months:
        info = next((inputs.sets.get((s.id, m)) for s in sources if (s.id, m) in inputs.sets), None)
        factor = (
            next((p for p in parameter_items(info.trace) if not is_constant(p)), None)
            if info
            else None
        )
        factor_row.append(
            float(factor.value) if factor and isinstance(factor.value, int | float) else None
        )
        if factor:
            factor_row[1] = unit_label(tx, factor.unit)
    factor_row.append(None)
    activity.add(factor_row, fmt=".6g")
    totals: list[float | None] = [
        t(sum(emissions.get((s.id, m), 0) for s in sources)) for m in inputs.months
    ]
    activity.add(
        [
            tx("购入使用电力、热力排放量", "Emissions of purchased electricity and heat"),
            "tCO2e",
            *totals,
            t(sum(emissions.get((s.id, m), 0) for s in sources for m in inputs.months)),
        ],
        total=True,
    )
    activity.notes.append(
        tx(
            "排放因子为各月所用值（来源编号见附录 B）；基于市场的范围二排放单独报告，不计入总量。",
            "Emission factors are those used each month (reference ids in Appendix B); Scope 2 "
            "market-based emissions are reported separately and never added to the total.",
        )
    )
    return [activity]


def _production(inputs: Inputs, tx: Lang, title: str) -> Table:
    series = list(inputs.production)
    columns = [Column(tx("月份", "Month"))]
    columns += [Column(with_unit(_series_name(inputs, s), inputs.production_units[s]), ",.3f")
                for s in series]  # fmt: skip
    columns += [
        Column(tx("直接排放", "Direct (Scope 1)") + " [tCO2e]", ",.3f"),
        Column(tx("购入电力热力排放", "Purchased energy") + " [tCO2e]", ",.3f"),
        Column(tx("排放总量", "Total") + " [tCO2e]", ",.3f"),
    ]
    if series:
        columns.append(
            Column(
                tx("排放强度", "Intensity") + f" [tCO2e/{inputs.production_units[series[0]]}]",
                ".6f",
            )
        )
    table = Table(id="production", title=title, columns=columns)
    incomplete = {str(p["period"]) for p in inputs.problems}
    by = sum_by(inputs.lines, "period", "scope")
    year_direct = year_indirect = 0
    year_output: dict[str, float] = defaultdict(float)
    for m in inputs.months:
        direct = sum(
            v for (p, s), v in by.items() if p == m and s not in (Scope.LOCATION, Scope.MARKET)
        )
        indirect = sum(v for (p, s), v in by.items() if p == m and s == Scope.LOCATION)
        year_direct += direct
        year_indirect += indirect
        outputs = [inputs.production[s].get(m) for s in series]
        for s, v in zip(series, outputs, strict=True):
            year_output[s] += v or 0.0
        row: list[str | int | float | None] = [
            tx.month(m),
            *outputs,
            t(direct),
            t(indirect),
            t(direct + indirect),
        ]
        if series:
            # a month with a failed or missing source has no intensity (not a too-small one)
            known = m not in incomplete
            row.append(t(direct + indirect) / outputs[0] if outputs[0] and known else None)
        table.add(row)
    total_row: list[str | int | float | None] = [
        _total_label(inputs, tx),
        *(year_output[s] for s in series),
        t(year_direct),
        t(year_indirect),
        t(year_direct + year_indirect),
    ]
    if series:
        first = year_output[series[0]]
        total_row.append(
            t(year_direct + year_indirect) / first if first and not incomplete else None
        )
    table.add(total_row, total=True)
    if incomplete and series:
        table.notes.append(
            tx(
                f"{', '.join(sorted(incomplete))} 有排放源未能核算，该月及全年不给出排放强度。",
                f"{', '.join(sorted(incomplete))}: a source could not be computed, so no "
                "intensity is given for the month or the year.",
            )
        )
    if not series:
        table.notes.append(
            tx(
                "站点模型中没有产量序列（production），未计算排放强度。",
                "The site model has no production series, so no intensity is given.",
            )
        )
    return table


def _annual_activity(inputs: Inputs, tx: Lang) -> Table:
    table = Table(
        id="activity",
        title=tx("附表2 报告主体活动水平相关数据", "Table 2 Activity data of the reporting entity"),
        columns=[
            Column(tx("排放源", "Source")),
            Column(tx("燃料/物料/能源", "Fuel, material or carrier")),
            Column(tx("活动数据", "Activity datum")),
            Column(tx("全年数值", "Annual value"), ",.3f"),
            Column(tx("单位", "Unit")),
            Column(tx("来源", "Source of data")),
        ],
    )
    sums: dict[tuple[str, str, str], float] = defaultdict(float)
    evidence: dict[tuple[str, str, str], str] = {}
    for (source_id, _), info in sorted(inputs.sets.items()):
        for item in activity_items(info.trace):
            key = (source_id, item.name, item.unit)
            if isinstance(item.value, int | float):
                sums[key] += float(item.value)
            # the series or points, without one month's documents or reading counts
            evidence.setdefault(key, re.sub(r" \(.*?\)", "", item.evidence.split(":")[0]))
    for (source_id, name, unit), value in sums.items():
        source = inputs.source(source_id)
        carrier = ""
        if source is not None:
            carrier = (
                fuel_label(tx, source.fuel)
                if source.fuel
                else source.material or tx.method(source.method)
            )
        table.add(
            [
                _source_name(inputs, source_id),
                carrier,
                parameter_label(tx, name),
                value,
                unit_label(tx, unit),
                evidence[(source_id, name, unit)],
            ]
        )
    return table


def _annual_factors(inputs: Inputs, tx: Lang) -> Table:
    table = Table(
        id="factors",
        title=tx(
            "附表3 报告主体排放因子相关数据", "Table 3 Emission factors of the reporting entity"
        ),
        columns=[
            Column(tx("排放源", "Source")),
            Column(tx("参数", "Parameter")),
            Column(tx("数值（各月）", "Value (months)")),
            Column(tx("单位", "Unit")),
            Column(tx("取值方式", "Value type")),
            Column(tx("来源编号", "Reference id")),
        ],
    )
    seen: dict[tuple[str, str], dict[str, set[str]]] = {}
    units: dict[tuple[str, str], str] = {}
    for (source_id, _), info in sorted(inputs.sets.items()):
        for item in parameter_items(info.trace):
            if is_constant(item):
                continue
            entry = seen.setdefault(
                (source_id, item.name), {"values": set(), "types": set(), "ids": set()}
            )
            entry["values"].add(fmt_value(item.value))
            entry["types"].add(tx.value_type(item.origin))
            if item.factor_id:
                entry["ids"].add(item.factor_id)
            units[(source_id, item.name)] = item.unit
    for (source_id, name), entry in seen.items():
        values = sorted(entry["values"], key=lambda v: float(v) if _is_number(v) else 0.0)
        shown = values[0] if len(values) == 1 else f"{values[0]} … {values[-1]}"
        table.add(
            [
                _source_name(inputs, source_id),
                parameter_label(tx, name),
                shown,
                unit_label(tx, units[(source_id, name)]),
                " / ".join(sorted(entry["types"])),
                ", ".join(sorted(entry["ids"])),
            ]
        )
    return table


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _source_name(inputs: Inputs, source_id: str) -> str:
    """A source as the site model names it (its id when it has no name)."""
    source = inputs.source(source_id)
    return (source.name or source_id) if source else source_id


def _series_name(inputs: Inputs, series_id: str) -> str:
    for series in inputs.site.series:
        if series.id == series_id:
            return series.name or series_id
    return series_id
