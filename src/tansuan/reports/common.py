"""Pieces every report shares: sums of result lines (exact, in grams), headers, quality."""

from __future__ import annotations

from collections import defaultdict

from tansuan import __version__, clock
from tansuan.accounting.rollup import Line, grams_to_tonnes
from tansuan.domain.scope import in_total
from tansuan.reports import completeness
from tansuan.reports.gather import Inputs
from tansuan.reports.i18n import Lang, grid_region, note
from tansuan.reports.model import Column, Section, Table

NOT_RECORDED = ("（站点模型未登记）", "(not recorded in the site model)")


def sum_by(lines: list[Line], *keys: str, market: bool = False) -> dict[tuple[str, ...], int]:
    """co2e [g] summed by line attributes; market-based lines only when ``market``."""
    out: dict[tuple[str, ...], int] = defaultdict(int)
    for line in lines:
        if in_total(line.scope) == market:
            continue
        out[tuple(str(getattr(line, k)) for k in keys)] += line.co2e_g
    return dict(out)


def t(grams: int) -> float:
    """Integer grams → tonnes (the one conversion; accounting rounds once, to the gram)."""
    return grams_to_tonnes(grams)


def cover(inputs: Inputs, tx: Lang, guideline: str) -> Section:
    company = inputs.company.name or inputs.company.id
    site = inputs.site.name or inputs.site.id
    facts = [
        (tx("报告主体", "Reporting entity"), company),
        (tx("集团", "Group"), inputs.model.organisation.name or inputs.model.organisation.id),
        (tx("站点", "Site"), f"{site} ({inputs.site.id})"),
        (tx("报告期", "Reporting period"), inputs.label),
        (tx("核算依据", "Accounting basis"), guideline),
        (tx("编制日期", "Compiled on"), clock.today().isoformat()),
        (tx("编制软件", "Compiled with"), f"tansuan {__version__}"),
    ]
    return Section(title=tx("报告信息", "About this report"), facts=facts)


def entity_facts(inputs: Inputs, tx: Lang) -> list[tuple[str, str]]:
    missing = tx(*NOT_RECORDED)
    site = inputs.site
    return [
        (tx("重点排放单位名称", "Entity name"), inputs.company.name or inputs.company.id),
        (tx("统一社会信用代码", "Unified social credit code"), missing),
        (tx("排污许可证编号", "Pollutant-discharge permit no."), missing),
        (tx("法定代表人", "Legal representative"), missing),
        (tx("生产经营场所地址", "Site address"), site.location.address or missing),
        (tx("电网区域", "Grid region"), grid_region(tx, site.grid_region) or missing),
        (tx("时区", "Time zone"), site.timezone),
        (tx("报告年度", "Reporting year"), str(inputs.year)),
    ]


def facilities(inputs: Inputs, tx: Lang) -> Table:
    """Facilities that host an emission source (附表 C.2 / generic boundary description)."""
    table = Table(
        id="facilities",
        title=tx("排放设施", "Emission facilities"),
        columns=[
            Column(tx("设施编号", "Facility id")),
            Column(tx("名称", "Name")),
            Column(tx("类别", "Class")),
            Column(tx("所在区域", "Area")),
            Column(tx("额定功率", "Rated power") + " [kW]", ".0f"),
            Column(tx("排放源", "Emission sources")),
        ],
    )
    by_device: dict[str, list[str]] = defaultdict(list)
    for source in inputs.site.sources:
        by_device[source.device or ""].append(f"{source.id} ({tx.method(source.method)})")
    for path, device in inputs.site.iter_devices():
        if device.id not in by_device:
            continue
        table.add(
            [
                device.id,
                device.name or "",
                device.device_class,
                "/".join(path),
                device.rated_power_kw,
                "; ".join(by_device[device.id]),
            ]
        )
    if "" in by_device:
        table.add([tx("（站点级）", "(site level)"), "", "", "", None, "; ".join(by_device[""])])
    return table


def quality(inputs: Inputs, tx: Lang) -> Section:
    """Data-quality and missing-data statement, from the grades and notes of the results."""
    grades: dict[str, int] = defaultdict(int)
    table = Table(
        id="quality",
        title=tx("数据质量与缺失数据处理", "Data quality and missing data"),
        columns=[
            Column(tx("排放源", "Source")),
            Column(tx("月份", "Month")),
            Column(tx("等级", "Grade")),
            Column(tx("覆盖率", "Coverage") + " [%]", ".2f"),
            Column(tx("替代数据占比", "Substituted") + " [%]", ".2f"),
            Column(tx("处理说明", "How it was handled")),
        ],
    )
    defaults = 0
    for (source_id, month), info in sorted(inputs.sets.items()):
        grades[info.grade] += 1
        raw = [str(n) for n in info.trace.get("notes", [])]
        defaults += any("default" in n for n in raw)
        notes = [note(tx, n) for n in raw]
        if info.grade != "A" or notes:
            table.add(
                [
                    source_id,
                    month,
                    info.grade,
                    info.coverage * 100,
                    info.substituted_share * 100,
                    " ".join(notes)
                    or tx(
                        "数据不完整，按源的补缺规则处理",
                        "incomplete data, filled by the source's gap rule",
                    ),
                ]
            )
    for p in inputs.problems:  # failed or missing: no figure, never a zero
        state = tx("失败", "failed") if p["state"] == "failed" else tx("缺失", "missing")
        table.add([p["source_id"], p["period"], state, None, None, f"{p['problem']} — {p['fix']}"])
    n = len(inputs.sets)
    counts = ", ".join(f"{g}: {grades[g]}" for g in sorted(grades))
    found = completeness.of(inputs)
    rules = found.substitution_rules
    if rules:
        substituted_t = grams_to_tonnes(found.substituted_co2e_g)
        handled = tx(
            f"约 {substituted_t:,.3f} tCO2e 基于替代数据，按 {'、'.join(rules)} 处理，"
            "见下表及附录 A。",
            f"About {substituted_t:,.3f} tCO2e rest on substituted data, filled by "
            f"{', '.join(rules)}; see the table and Appendix A.",
        )
    else:
        handled = tx("本期无替代数据。", "No data were substituted this period.")
    missing = len(inputs.problems)
    if missing:
        handled += tx(
            f"另有 {missing} 个排放源-月份未能核算（失败或缺少数据），不计入合计，数据不完整。",
            f" {missing} source-months could not be computed (failed or without data): they "
            "are not in the totals, and the data are incomplete.",
        )
    section = Section(
        title=tx("数据质量与缺失数据说明", "Data quality and missing-data statement"),
        paragraphs=[
            tx(
                f"本期共 {n} 个排放源-月份核算结果，质量等级分布：{counts}。"
                f"其中 {defaults} 个因缺少实测值而按指南缺省值计算（仅限该月）。"
                "等级为 tansuan 约定：A 无替代且覆盖率 ≥ 99%，B 替代 ≤ 5%，C ≤ 20%，"
                "D 更多或仍有缺失。",
                f"{n} source-month results this period; grades: {counts}. "
                f"{defaults} use the guideline default for a missing measured value (that "
                "month only). Grades are tansuan's convention: A no substitution and coverage "
                "≥ 99 %, B substituted ≤ 5 %, C ≤ 20 %, D more or data still missing. ",
            )
            + handled
        ],
    )
    if table.rows:
        section.tables.append(table)
    else:
        section.paragraphs.append(
            tx("所有结果均为 A 级，无缺失数据。", "Every result is grade A; no data were missing.")
        )
    add_proposals(section, inputs, tx)
    return section


def add_proposals(section: Section, inputs: Inputs, tx: Lang) -> None:
    """The pending proposals of the period: recalculations of filed months that an approver
    has not yet accepted or rejected. The report shows the filed (current) figures; a
    proposal without a figure (failed or missing month) shows "—", never 0."""
    if not inputs.proposals:
        section.paragraphs.append(
            tx("本期没有待决定的重算提议。", "No recalculation of a filed month is pending.")
        )
        return
    section.paragraphs.append(
        tx(
            f"本期有 {len(inputs.proposals)} 个已报送月份的重算提议尚待审核人决定；"
            "本报告采用已报送的数据，提议见下表。",
            f"{len(inputs.proposals)} recalculation(s) of filed months await an approver's "
            "decision; this report uses the filed figures; the proposals are listed below.",
        )
    )
    table = Table(
        id="proposals",
        title=tx("待决定的重算提议", "Pending proposals"),
        columns=[
            Column(tx("排放源", "Source")),
            Column(tx("月份", "Month")),
            Column(tx("版本", "Versions")),
            Column(tx("已报送", "Filed") + " [tCO2e]", ",.3f"),
            Column(tx("提议", "Proposed") + " [tCO2e]", ",.3f"),
            Column(tx("差异", "Difference") + " [tCO2e]", "+,.3f"),
            Column(tx("提议人", "Proposed by")),
            Column(tx("原因", "Reason")),
        ],
    )
    for p in inputs.proposals:
        table.add(
            [
                p.source_id,
                p.period,
                f"v{p.current_version if p.current_version is not None else '—'} → v{p.version}",
                None if p.current_co2e_g is None else t(p.current_co2e_g),
                None if p.co2e_g is None else t(p.co2e_g),
                None if p.difference_g is None else t(p.difference_g),
                p.computed_by or "—",
                p.reason,
            ]
        )
    section.tables.append(table)


def proposals_section(inputs: Inputs, tx: Lang) -> Section:
    """A data-quality section that lists the pending proposals (inventory, energy report)."""
    section = Section(title=tx("数据质量：待决定的重算提议", "Data quality: pending proposals"))
    add_proposals(section, inputs, tx)
    return section
