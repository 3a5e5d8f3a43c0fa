"""Bilingual text for reports: every label is written once in zh-CN and once in English."""

from __future__ import annotations

from dataclasses import dataclass

from tansuan.domain.scope import Scope
from tansuan.errors import InputError

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Lang:
    """``tx("排放总量", "Total emissions")`` picks the text of the report's language."""

    code: str

    def __post_init__(self) -> None:
        if self.code not in LANGS:
            raise InputError(
                f"不支持的语言 / unsupported language {self.code!r}; use zh or en", field="lang"
            )

    def __call__(self, zh: str, en: str) -> str:
        return zh if self.code == "zh" else en

    def value_type(self, origin: str) -> str:
        """取值方式 of a trace origin: 实测值 / 缺省值 / 计算值 (report-templates §0)."""
        if origin in ("measured", "input", "telemetry", "manual"):
            return self("实测值", "measured")
        if origin == "supplier":
            return self("实测值（供应商）", "measured (supplier)")
        if origin == "default":
            return self("缺省值", "default")
        return self("计算值", "calculated")

    def scope(self, scope: str) -> str:
        names: dict[str, str] = {
            Scope.DIRECT: self("范围一", "Scope 1"),
            Scope.LOCATION: self("范围二（基于位置）", "Scope 2 (location-based)"),
            Scope.MARKET: self("范围二（基于市场）", "Scope 2 (market-based)"),
            Scope.VALUE_CHAIN: self("范围三", "Scope 3"),
        }
        return names.get(scope, scope)

    def method(self, method: str) -> str:
        """Source category as the MEE report names it (附表1 rows)."""
        return {
            "combustion": self("化石燃料燃烧排放", "Fossil-fuel combustion"),
            "process": self("工业生产过程排放", "Industrial process"),
            "mass_balance": self("工业生产过程排放（碳平衡法）", "Process (carbon mass balance)"),
            "cems": self("连续监测（CEMS）排放", "Continuous monitoring (CEMS)"),
            "electricity": self("净购入使用电力排放", "Purchased electricity"),
            "heat": self("净购入使用热力排放", "Purchased heat"),
            "refrigerant": self("制冷剂逸散排放", "Refrigerant leakage"),
            "direct": self("直接测量排放", "Direct measurement"),
        }.get(method, method)

    def month(self, label: str) -> str:
        year, month = label.split("-")
        return f"{year}年{int(month)}月" if self.code == "zh" else label


#: Chinese names of trace parameters as the MEE forms call them (附表 C.3/C.4 rows).
PARAMETER_ZH = {
    "fuel_amount": "消耗量",
    "ncv": "低位发热量",
    "carbon_per_heat": "单位热值含碳量",
    "carbon_content_ad": "空气干燥基元素碳含量",
    "carbon_content_ar": "收到基元素碳含量",
    "moisture_ad": "空气干燥基水分",
    "moisture_ar": "收到基水分",
    "oxidation": "碳氧化率",
    "electricity_mwh": "购入使用电量",
    "grid_factor": "电网排放因子",
    "heat_gj": "购入热力",
    "heat_factor": "热力排放因子",
    "material_t": "原料消耗量",
    "clinker_t": "熟料产量",
    "process_factor": "过程排放因子",
    "cao_fraction": "氧化钙含量",
    "mgo_fraction": "氧化镁含量",
    "covered_mwh": "合同覆盖电量",
    "residual_mwh": "剩余电量",
    "residual_factor": "剩余组合排放因子",
    "hours": "小时数",
}


def parameter_label(tx: Lang, name: str) -> str:
    """``消耗量 fuel_amount`` in Chinese reports, the identifier in English ones."""
    zh = PARAMETER_ZH.get(name)
    return f"{zh} {name}" if tx.code == "zh" and zh else name
