"""The trace of one result set as a chain a person reads left to right:
readings → rollup → activity → factors (with their sources) → formula → result.

Pure: takes the stored trace (see :func:`tansuan.accounting.results.stored_trace`) and the
set's result lines, returns plain dicts for the dashboard's trace fragment; the raw JSON
stays available beside it.
"""

from __future__ import annotations

from typing import Any


def chain(trace: dict[str, Any], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps of a trace, each ``{"step", "rows"}``; ``rows`` are ``(label, value,
    note)`` triples. A source-month without a figure (failed, missing) ends in its
    problem and fix instead of a result."""
    data = trace.get("data") or {}
    activity = data.get("activity") or []
    steps: list[dict[str, Any]] = []
    readings = [(a.get("point", "?"), f"{a.get('n', '?')}", _expected(a)) for a in activity]
    if readings:
        steps.append({"step": "readings", "rows": readings})
        steps.append({"step": "rollup", "rows": [
            (a.get("point", "?"), f"{_num(a.get('value'))} {a.get('unit', '')}".strip(),
             f"{a.get('rollup', '')}" + (f" · resets {a['resets']}" if a.get("resets") else ""))
            for a in activity
        ]})  # fmt: skip
    parameters = data.get("parameters") or {}
    details = trace.get("details") or {}
    rows = [(name, _num(value), "") for name, value in details.items()]
    rows += [(name, _num(value), "manual") for name, value in _flat(parameters)]
    if rows:
        steps.append({"step": "activity", "rows": rows})
    factors = [
        (f.get("name", "?"), f"{_num(f.get('value'))} {f.get('unit', '')}".strip(),
         " · ".join(x for x in (f.get("factor_id"), f.get("source")) if x))
        for f in trace.get("factors") or []
    ]  # fmt: skip
    if factors:
        steps.append({"step": "factors", "rows": factors})
    formula = trace.get("formula") or {}
    if formula:
        steps.append({"step": "formula", "rows": [
            (formula.get("id", ""), formula.get("expression", ""), formula.get("reference", ""))
        ]})  # fmt: skip
    if lines:
        steps.append({"step": "result", "rows": [
            (ln["scope"], f"{_num(ln['co2e_t'])} tCO₂e",
             f"{_num(ln['mass_t'])} t {ln['gas']}")
            for ln in lines
        ]})  # fmt: skip
    elif trace.get("problem"):
        steps.append({"step": "result", "rows": [
            (trace.get("state", ""), trace.get("problem", ""), trace.get("fix", ""))
        ]})  # fmt: skip
    return steps


def _expected(item: dict[str, Any]) -> str:
    expected = item.get("expected")
    return "" if expected is None else f"/ {_num(expected)}"


def _flat(values: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(values, dict):
        out: list[tuple[str, Any]] = []
        for key, value in values.items():
            out += _flat(value, f"{prefix}{key}.")
        return out
    return [(prefix.rstrip("."), values)]


def _num(value: Any) -> str:
    """A number with at most 6 significant figures and no exponent for everyday sizes.

    >>> _num(54000.0), _num(0.5703), _num(30.798)
    ('54,000', '0.5703', '30.798')
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e9:
        text = f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
        return text
    return f"{value:.6g}"
