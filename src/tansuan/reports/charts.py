"""Charts (matplotlib, Agg backend) as PNG bytes, with CJK text set in Noto Sans CJK."""

from __future__ import annotations

import io
from collections import defaultdict
from functools import cache
from typing import Any

from tansuan.domain.scope import Scope, in_total
from tansuan.errors import ConfigError
from tansuan.reports.gather import Inputs
from tansuan.reports.i18n import Lang
from tansuan.reports.model import Chart

CJK_FAMILY = "Noto Sans CJK SC"
FONT_PACKAGE = "fonts-noto-cjk"


@cache
def _pyplot() -> Any:
    import matplotlib  # deferred: matplotlib (~0.5 s), only when a chart is drawn

    matplotlib.use("Agg")
    from matplotlib import font_manager  # deferred: with matplotlib
    from matplotlib import pyplot as plt  # deferred: with matplotlib

    names = {f.name for f in font_manager.fontManager.ttflist}
    if CJK_FAMILY not in names:
        font_manager.fontManager.__init__()  # type: ignore[misc]  # rescan after an install
        names = {f.name for f in font_manager.fontManager.ttflist}
    if CJK_FAMILY not in names:
        raise ConfigError(
            f"缺少中文字体，请安装 Debian 软件包 {FONT_PACKAGE} / CJK font {CJK_FAMILY!r} not "
            f"found: install the Debian package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE})"
        )
    plt.rcParams["font.family"] = [CJK_FAMILY, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig: Any) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def monthly_by_category(inputs: Inputs, tx: Lang) -> Chart:
    """Stacked bars: tCO2e per month by source category (market-based lines left out)."""
    plt = _pyplot()
    by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in inputs.lines:
        if in_total(line.scope):
            by[line.source_type][line.period] += line.co2e_g
    fig, ax = plt.subplots(figsize=(8, 3))
    labels = [m[5:] for m in inputs.months]
    bottom = [0.0] * len(inputs.months)
    for method in sorted(by):
        values = [by[method].get(m, 0) / 1e6 for m in inputs.months]
        ax.bar(labels, values, bottom=bottom, label=tx.method(method))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("tCO2e")
    ax.set_xlabel(tx("月份", "Month"))
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    caption = tx("各月排放量（按排放类别）", "Emissions per month by category")
    ax.set_title(caption, fontsize=10)
    return Chart(caption=caption, png=_png(fig))


def monthly_by_scope(inputs: Inputs, tx: Lang) -> Chart:
    plt = _pyplot()
    by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in inputs.lines:
        by[line.scope][line.period] += line.co2e_g
    fig, ax = plt.subplots(figsize=(8, 3))
    labels = [m[5:] for m in inputs.months]
    bottom = [0.0] * len(inputs.months)
    for scope in sorted(s for s in by if in_total(s)):
        values = [by[scope].get(m, 0) / 1e6 for m in inputs.months]
        ax.bar(labels, values, bottom=bottom, label=tx.scope(scope))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if Scope.MARKET in by:
        ax.plot(
            labels,
            [by[Scope.MARKET].get(m, 0) / 1e6 for m in inputs.months],
            "k--",
            label=tx.scope(Scope.MARKET),
        )
    ax.set_ylabel("tCO2e")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    caption = tx("各月排放量（按范围）", "Emissions per month by scope")
    ax.set_title(caption, fontsize=10)
    return Chart(caption=caption, png=_png(fig))


def energy_trajectory(
    months: list[str], cumulative_tce: list[float], budget_line: list[float] | None, tx: Lang
) -> Chart:
    """Year-to-date comprehensive energy consumption against the pro-rata budget."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3))
    labels = [m[5:] for m in months]
    ax.plot(labels, cumulative_tce, "o-", label=tx("累计综合能耗", "Cumulative energy"))
    if budget_line is not None:
        ax.plot(
            labels, budget_line, "r--", label=tx("预算进度（按天折算）", "Budget, pro rata by day")
        )
    ax.set_ylabel("tce")
    ax.set_xlabel(tx("月份", "Month"))
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    caption = tx("年度累计能耗与双控预算", "Year-to-date energy against the dual-control budget")
    ax.set_title(caption, fontsize=10)
    return Chart(caption=caption, png=_png(fig))
