"""Read an accounting trace as a reader needs it, and build the traceability appendix.

Every reported number → the formula → its inputs (with the points or documents behind
them) → its parameters (value, 取值方式, reference-table id) → the sources of those
parameters. Nothing is recomputed: the values are those the engine saved in the trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tansuan.accounting.rollup import grams_to_tonnes
from tansuan.domain.scope import in_total
from tansuan.reports.gather import Inputs
from tansuan.reports.i18n import Lang, note, parameter_label, unit_label
from tansuan.reports.model import Column, Table


@dataclass(frozen=True)
class Item:
    """One input or parameter of a source-month as logged in its trace."""

    name: str
    value: float | str
    unit: str
    origin: str  #: measured / supplier / default / input / derived
    factor_id: str  #: reference-table row id, or "" for data
    evidence: str  #: points with reading counts, or document references
    source: str = ""  #: the reference's document, for defaults
    confidence: str = ""
    data_kind: str = ""  #: "point", or the manual series kind (lab_ncv, fuel_consumption …)

    @property
    def origin_tag(self) -> str:
        """TEL / MAN / LAB / DEF / CALC (report-templates §0)."""
        if self.origin == "default":
            return "DEF"
        if self.data_kind == "point":
            return "TEL"
        if self.data_kind.startswith("lab"):
            return "LAB"
        if self.origin in ("input", "measured", "supplier"):
            return "MAN"
        return "CALC"


def _evidence(entry: dict[str, Any]) -> str:
    """Where a data input came from: ``point x: n/expected`` or document refs."""
    if "point" in entry:
        expected = entry.get("expected")
        counted = f"{entry.get('n', 0)}/{expected:g}" if isinstance(expected, int | float) else ""
        return f"point {entry['point']} ({counted})" if counted else f"point {entry['point']}"
    if "series" in entry:
        docs = [str(e.get("document", "")) for e in entry.get("entries", [])]
        docs = [d for d in docs if d]
        if docs:
            return f"{entry['series']}: " + ", ".join(docs)
        return f"{entry['series']}: —"
    return ""


def _norm(name: str) -> str:
    return name.replace("_content", "")


def _data_kind(entry: dict[str, Any]) -> str:
    return "point" if "point" in entry else str(entry.get("kind", ""))


def _points_evidence(entries: list[dict[str, Any]]) -> str:
    """Many meters feeding one source: ``12 points m0001 … m0012 (8928/8928)``."""
    n = sum(int(e.get("n", 0)) for e in entries)
    expected = sum(float(e.get("expected") or 0) for e in entries)
    names = sorted(str(e["point"]) for e in entries)
    return f"{len(names)} points {names[0]} … {names[-1]} ({n}/{expected:g})"


def activity_evidence(activity: list[dict[str, Any]]) -> str:
    """The evidence of a source-month's activity data, summarised when many points feed it."""
    points = [e for e in activity if "point" in e]
    if len(points) > 3:
        rest = [_evidence(e) for e in activity if "point" not in e]
        return "; ".join([_points_evidence(points), *[r for r in rest if r]])
    return "; ".join(text for text in (_evidence(e) for e in activity) if text)


def activity_items(trace: dict[str, Any]) -> list[Item]:
    """Activity data of a source-month: each ``input`` of the logged factor list."""
    data = trace.get("data", {})
    evidence = activity_evidence(data.get("activity", []))
    kinds = {_data_kind(e) for e in data.get("activity", [])}
    data_kind = "point" if kinds == {"point"} else next(iter(kinds - {"point"}), "")
    seen: set[str] = set()
    out: list[Item] = []
    for scope, name, ident, value, unit in trace.get("inputs", {}).get("factors", []):
        if ident != "input" or name in seen:
            continue
        seen.add(name)
        del scope
        out.append(Item(name, value, unit, "input", "", evidence, data_kind=data_kind))
    return out


def parameter_items(trace: dict[str, Any]) -> list[Item]:
    """Parameters (emission factors, NCV, oxidation, GWP …) with origin and source."""
    data_params: dict[str, Any] = trace.get("data", {}).get("parameters", {})
    out: list[Item] = []
    seen: set[tuple[str, str]] = set()
    for f in trace.get("factors", []):
        key = (str(f.get("name")), str(f.get("factor_id") or f.get("origin")))
        if key in seen:
            continue
        seen.add(key)
        origin = str(f.get("origin", ""))
        evidence = data_kind = ""
        if origin in ("measured", "supplier"):
            name = _norm(str(f.get("name")))
            for data_key, entry in data_params.items():
                wanted = _norm(data_key)
                if isinstance(entry, dict) and (wanted.startswith(name) or name.startswith(wanted)):
                    evidence = _evidence(entry)
                    data_kind = _data_kind(entry)
            if f.get("step") == "site_model":  # the factor chain's step 2: no data behind it
                evidence = str(f.get("source", ""))
        out.append(
            Item(
                name=str(f.get("name")),
                value=f.get("value", ""),
                unit=str(f.get("unit", "")),
                origin=origin,
                factor_id=str(f.get("factor_id") or ""),
                evidence=evidence,
                source=str(f.get("source", "")) if origin == "default" else "",
                confidence=str(f.get("confidence") or ""),
                data_kind=data_kind,
            )
        )
    return out


def fmt_value(value: float | str) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


#: reference-table rows that are constants (GWP, 44/12, molar masses, CEMS standard
#: conditions) rather than data or emission factors of the source: named by id only
CONSTANT_IDS = ("gwp.", "ratio.", "molar_mass.", "cems.")


def is_constant(item: Item) -> bool:
    return item.factor_id.startswith(CONSTANT_IDS)


def describe(items: list[Item], tx: Lang) -> str:
    """``name = value unit [取值方式, id]; …`` on one line; conversions by id only."""
    parts = []
    for item in items:
        if is_constant(item):
            parts.append(item.factor_id)
            continue
        tag = tx.value_type(item.origin)
        ref = item.factor_id or item.evidence
        parts.append(
            f"{parameter_label(tx, item.name)} = {fmt_value(item.value)} "
            f"{unit_label(tx, item.unit)} [{tag}{', ' + ref if ref else ''}]"
        )
    return "; ".join(parts)


def appendix(inputs: Inputs, tx: Lang) -> list[Table]:
    """The traceability appendix: one row per reported source-month, then the sources."""
    co2e: dict[tuple[str, str], int] = {}
    for line, _ in inputs.line_sets:
        if not in_total(line.scope):
            continue
        key = (line.source, line.period)
        co2e[key] = co2e.get(key, 0) + line.co2e_g
    rows = Table(
        id="trace",
        title=tx(
            "附录 A 数据溯源：数值 → 输入 → 参数 → 来源",
            "Appendix A Trace: number → inputs → parameters → sources",
        ),
        columns=[
            Column(tx("排放源", "Source"), width="9%"),
            Column(tx("月份", "Month"), width="6%"),
            Column(tx("结果版本", "Result set / version"), width="6%"),
            Column(tx("排放量", "Emission") + " [tCO2e]", ".3f", width="8%"),
            Column(tx("公式", "Formula"), width="12%"),
            Column(tx("活动数据（证据）", "Activity data (evidence)"), width="17%"),
            Column(
                tx("参数（取值方式，来源编号）", "Parameters (value type, reference id)"),
                width="30%",
            ),
            Column(tx("说明", "Notes"), width="12%"),
        ],
    )
    references: dict[str, Item] = {}
    for (source_id, month), info in sorted(inputs.sets.items()):
        trace = info.trace
        params = parameter_items(trace)
        for p in params:
            if p.factor_id:
                references.setdefault(p.factor_id, p)
        formula = trace.get("formula", {})
        rows.add(
            [
                source_id,
                month,
                f"#{info.set_id} v{info.version}",
                grams_to_tonnes(co2e.get((source_id, month), 0)),
                str(formula.get("expression", "")),
                describe(activity_items(trace), tx),
                describe(params, tx),
                " ".join(note(tx, str(n)) for n in trace.get("notes", [])),
            ]
        )
    refs = Table(
        id="trace-sources",
        title=tx("附录 B 参数来源", "Appendix B Sources of the parameters"),
        columns=[
            Column(tx("参考表编号", "Reference id")),
            Column(tx("参数", "Parameter")),
            Column(tx("数值", "Value")),
            Column(tx("单位", "Unit")),
            Column(tx("可信度", "Confidence")),
            Column(tx("来源文件与条款", "Source document and clause")),
        ],
        notes=[
            tx(
                "可信度标签：[V] 已核对原文，[S] 二手来源，[M] 凭记忆，详见 docs/methods.md。",
                "Confidence tags: [V] checked against the primary text, [S] secondary source, "
                "[M] from memory; see docs/methods.md.",
            )
        ],
    )
    formulas: dict[str, dict[str, Any]] = {}
    for info in inputs.sets.values():
        formula = info.trace.get("formula", {})
        if formula.get("id"):
            formulas.setdefault(str(formula["id"]), formula)
    for ident, item in sorted(references.items()):
        refs.add(
            [
                ident,
                parameter_label(tx, item.name),
                fmt_value(item.value),
                unit_label(tx, item.unit),
                item.confidence,
                item.source,
            ]
        )
    for ident, formula in sorted(formulas.items()):
        refs.add(
            [
                ident,
                tx("公式", "formula"),
                str(formula.get("expression", "")),
                "",
                "",
                str(formula.get("reference", "")),
            ]
        )
    return [rows, refs]
