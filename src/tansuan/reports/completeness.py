"""Is a report complete? Which source-months are failed or missing, how much is substituted.

A report renders the accounting results; it never fills a hole. When any source-month of
its period is ``failed`` or ``missing`` (docs/accounting.md, "No source-month is ever
absent"), its totals leave that month out, so the report says
"数据不完整，不可报送 / incomplete — not for submission" on its first page (HTML/PDF) and
in its XLSX, lists every such month with its reason and fix, and its ledger leaf carries
``incomplete: true``. Every report's totals also say how much of them rests on
substituted data and by which rule (``substituted_co2e_g``, ``substitution_rules``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tansuan.accounting.problems import INCOMPLETE_REASON
from tansuan.domain.scope import in_total
from tansuan.reports.gather import Inputs
from tansuan.reports.i18n import Lang
from tansuan.reports.model import Column, Report, Section, Table


@dataclass(frozen=True)
class Completeness:
    """What a report's period lacks and what it substitutes."""

    problems: list[dict[str, Any]] = field(default_factory=list)
    #: CO2e [g] resting on substituted data: Σ over results of CO2e × substituted share
    substituted_co2e_g: int = 0
    #: the substitution rules used (as the traces name them), sorted
    substitution_rules: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems

    def months(self) -> set[str]:
        """The months with a failed or missing source."""
        return {str(p["period"]) for p in self.problems}


def of(inputs: Inputs) -> Completeness:
    """The completeness of a report's inputs."""
    co2e: dict[int, int] = {}
    for line, set_id in inputs.line_sets:
        if in_total(line.scope):
            co2e[set_id] = co2e.get(set_id, 0) + line.co2e_g
    substituted = 0
    rules: set[str] = set()
    for info in inputs.sets.values():
        if info.substituted_share > 0:
            substituted += round(co2e.get(info.set_id, 0) * info.substituted_share)
            rules.update(_rules(info.trace))
    return Completeness(list(inputs.problems), substituted, sorted(rules))


def _rules(trace: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for item in trace.get("data", {}).get("activity", []):
        if not isinstance(item, dict):
            continue
        for fill in item.get("fills", []):
            if fill.get("rule"):
                found.add(str(fill["rule"]))
        if item.get("substituted_hours") and item.get("rule") and not item.get("fills"):
            found.add(str(item["rule"]))
    return found


def apply(report: Report, completeness: Completeness, tx: Lang) -> None:
    """Mark ``report``: its totals (and so its ledger leaf) and, when incomplete, its first
    section listing each failed or missing source-month."""
    report.totals["substituted_co2e_g"] = completeness.substituted_co2e_g
    report.totals["substitution_rules"] = completeness.substitution_rules
    report.totals["incomplete"] = not completeness.complete
    report.incomplete = not completeness.complete
    if completeness.complete:
        return
    table = Table(
        id="incomplete",
        title=tx("未核算的排放源-月份", "Source-months not computed"),
        columns=[
            Column(tx("排放源", "Source")),
            Column(tx("月份", "Month")),
            Column(tx("状态", "State")),
            Column(tx("原因", "Reason")),
            Column(tx("处理", "Fix")),
        ],
    )
    for p in completeness.problems:
        state = str(p["state"])
        shown = tx("失败", "failed") if state == "failed" else tx("缺失", "missing")
        table.add([p["source_id"], p["period"], shown, p["problem"], p["fix"]])
    section = Section(
        title=INCOMPLETE_REASON,
        paragraphs=[
            tx(
                f"本期有 {len(completeness.problems)} 个排放源-月份未能核算（失败或缺少数据），"
                "本报告的合计不含这些月份，数据不完整，不可报送。请按下表处理后重新核算。",
                f"{len(completeness.problems)} source-months of this period could not be "
                "computed (failed or without data); the totals of this report leave them out. "
                "The report is incomplete and not for submission: fix each as the table says "
                "and run the accounting again.",
            )
        ],
        tables=[table],
    )
    report.sections.insert(0, section)
