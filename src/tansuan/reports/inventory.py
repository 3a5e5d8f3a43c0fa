"""GHG Protocol Corporate Standard / ISO 14064-1 inventory of a site for a year (or month).

Scope 1 by source type and gas; Scope 2 location-based and market-based side by side
(market-based never added into the totals); the GWP set and its values as the results
used them. Every figure is a sum of saved integer-gram result lines.
"""

from __future__ import annotations

from collections import defaultdict

from tansuan.accounting.rollup import rollup
from tansuan.domain.scope import Scope, in_total
from tansuan.reports import charts
from tansuan.reports.common import cover, proposals_section, sum_by, t
from tansuan.reports.gather import Inputs
from tansuan.reports.i18n import Lang
from tansuan.reports.model import Column, Report, Section, Table
from tansuan.reports.traces import appendix, fmt_value, parameter_items


def build(inputs: Inputs, tx: Lang) -> Report:
    basis = tx(
        "温室气体核算体系企业标准（GHG Protocol）、范围二指南（2015）；ISO 14064-1:2018",
        "GHG Protocol Corporate Standard and Scope 2 Guidance (2015); ISO 14064-1:2018",
    )
    report = Report(
        kind="inventory",
        lang=tx.code,
        title=tx(f"{inputs.label} 温室气体清单", f"Greenhouse-gas inventory {inputs.label}"),
        subtitle=inputs.company.name or inputs.company.id,
        site_id=inputs.site.id,
        period=inputs.label,
    )
    report.sections.append(cover(inputs, tx, basis))
    scope1 = sum(v for (s,), v in sum_by(inputs.lines, "scope").items() if s == "1")
    location = sum(v for (s,), v in sum_by(inputs.lines, "scope").items() if s == Scope.LOCATION)
    market = sum(sum_by(inputs.lines, "scope", market=True).values())
    has_market = any(line.scope == Scope.MARKET for line in inputs.lines)
    report.totals = {
        "total_co2e_g": inputs.totals_g(),
        "scope1_co2e_g": scope1,
        "scope2_location_co2e_g": location,
        "scope2_market_co2e_g": market if has_market else None,
    }
    summary = Table(
        id="scopes",
        title=tx("排放总览", "Summary"),
        columns=[Column(tx("范围", "Scope")), Column("tCO2e", ",.3f")],
    )
    for (scope,), grams in sorted(sum_by(inputs.lines, "scope").items()):
        summary.add([tx.scope(scope), t(grams)])
    summary.add(
        [
            tx("总排放（范围一 + 范围二基于位置）", "Total (Scope 1 + Scope 2 location-based)"),
            t(inputs.totals_g()),
        ],
        total=True,
    )
    summary.add(
        [
            tx.scope(Scope.MARKET) + tx("（并列报告）", " (reported beside)"),
            t(market) if has_market else None,
        ]
    )
    if not has_market:
        summary.notes.append(
            tx(
                "未记录基于市场的合同工具（绿证、购电协议等），不报告基于市场的范围二。",
                "No contractual instruments (certificates, PPAs) are recorded, so no "
                "market-based Scope 2 figure is reported.",
            )
        )
    overview = Section(title=tx("一、清单总览", "1. Inventory summary"), tables=[summary])
    overview.charts.append(charts.monthly_by_scope(inputs, tx))
    overview.paragraphs.append(
        tx(
            "组织边界：运营控制法，边界为本站点（站点模型中的全部区域与设备）。",
            "Organisational boundary: operational control; the boundary is this site (every "
            "area and device of the site model).",
        )
    )
    report.sections.append(overview)
    report.sections.append(
        Section(
            title=tx("二、范围一（按排放源类型和气体）", "2. Scope 1 by source type and gas"),
            tables=[_scope1(inputs, tx)],
        )
    )
    report.sections.append(
        Section(
            title=tx("三、范围二（基于位置与基于市场）", "3. Scope 2, location- and market-based"),
            tables=[_scope2(inputs, tx)],
        )
    )
    report.sections.append(
        Section(title=tx("四、按区域", "4. By area"), tables=[_by_node(inputs, tx)])
    )
    report.sections.append(
        Section(
            title=tx("五、全球增温潜势", "5. Global warming potentials"), tables=[_gwp(inputs, tx)]
        )
    )
    report.sections.append(proposals_section(inputs, tx))
    report.trace = appendix(inputs, tx)
    return report


def _scope1(inputs: Inputs, tx: Lang) -> Table:
    table = Table(
        id="scope1",
        title=tx("范围一排放", "Scope 1 emissions"),
        columns=[
            Column(tx("排放源类型", "Source type")),
            Column(tx("气体", "Gas")),
            Column(tx("气体质量", "Mass of gas") + " [t]", ",.3f"),
            Column("tCO2e", ",.3f"),
        ],
    )
    mass: dict[tuple[str, str], int] = defaultdict(int)
    co2e: dict[tuple[str, str], int] = defaultdict(int)
    for line in inputs.lines:
        if line.scope == "1":
            mass[(line.source_type, line.gas)] += line.mass_g
            co2e[(line.source_type, line.gas)] += line.co2e_g
    for key in sorted(co2e):
        table.add([tx.method(key[0]), key[1], t(mass[key]), t(co2e[key])])
    table.add([tx("范围一合计", "Scope 1 total"), "", None, t(sum(co2e.values()))], total=True)
    return table


def _scope2(inputs: Inputs, tx: Lang) -> Table:
    table = Table(
        id="scope2",
        title=tx("范围二排放", "Scope 2 emissions"),
        columns=[
            Column(tx("排放源", "Source")),
            Column(tx("类型", "Type")),
            Column(tx("基于位置", "Location-based") + " [tCO2e]", ",.3f"),
            Column(tx("基于市场", "Market-based") + " [tCO2e]", ",.3f"),
        ],
    )
    loc = sum_by(inputs.lines, "source", "source_type")
    mkt = sum_by(inputs.lines, "source", "source_type", market=True)
    scope2 = {ln.source for ln in inputs.lines if ln.scope.startswith("2")}
    for key in sorted(k for k in set(loc) | set(mkt) if k[0] in scope2):
        table.add(
            [
                key[0],
                tx.method(key[1]),
                t(loc[key]) if key in loc else None,
                t(mkt[key]) if key in mkt else None,
            ]
        )
    loc_total = sum(v for k, v in loc.items() if k[0] in scope2)
    mkt_total = sum(mkt.values())
    table.add(
        [tx("范围二合计", "Scope 2 total"), "", t(loc_total), t(mkt_total) if mkt else None],
        total=True,
    )
    return table


def _by_node(inputs: Inputs, tx: Lang) -> Table:
    table = Table(
        id="by-area",
        title=tx(
            "按组织层级（范围一 + 范围二基于位置）", "By node (Scope 1 + Scope 2 location-based)"
        ),
        columns=[Column(tx("层级", "Node")), Column("tCO2e", ",.3f")],
    )
    totals = rollup([ln for ln in inputs.lines if in_total(ln.scope)], "node")
    for node in sorted(totals):
        if node.count("/") <= 3:  # group, company, site, first-level areas
            table.add([node, t(totals[node])])
    return table


def _gwp(inputs: Inputs, tx: Lang) -> Table:
    sets = {str(info.trace.get("gwp_set", "")) for info in inputs.sets.values()}
    table = Table(
        id="gwp",
        title=tx("所用 GWP 值", "GWP values used"),
        columns=[
            Column(tx("GWP 版本", "GWP set")),
            Column(tx("气体", "Gas")),
            Column("GWP-100"),
            Column(tx("来源编号", "Reference id")),
        ],
        notes=[
            tx(
                f"本清单使用的 GWP 版本：{', '.join(sorted(sets))}。",
                f"GWP set used: {', '.join(sorted(sets))}.",
            )
        ],
    )
    seen: dict[str, tuple[str, str, str]] = {}
    for info in inputs.sets.values():
        for item in parameter_items(info.trace):
            if item.name.startswith("gwp_"):
                seen.setdefault(
                    item.name[4:],
                    (str(info.trace.get("gwp_set", "")), fmt_value(item.value), item.factor_id),
                )
    for gas, (gwp_set, value, ident) in sorted(seen.items()):
        table.add([gwp_set, gas, value, ident])
    return table
