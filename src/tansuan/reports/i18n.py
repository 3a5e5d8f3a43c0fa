"""Bilingual text for reports: every label is written once in zh-CN and once in English."""

from __future__ import annotations

import re
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

    def guideline(self, sector: str) -> str:
        """The accounting guideline a site of ``sector`` reports under (data/sectors.csv)."""
        zh, en = GUIDELINES.get(sector, GUIDELINES["general"])
        return self(zh, en)

    def month(self, label: str) -> str:
        year, month = label.split("-")
        return f"{year}年{int(month)}月" if self.code == "zh" else label


#: Names of trace parameters, zh-CN as the MEE forms call them (附表 C.3/C.4 rows) and en.
PARAMETERS: dict[str, tuple[str, str]] = {
    "fuel_amount": ("消耗量", "Fuel consumed"),
    "ncv": ("低位发热量", "Net calorific value"),
    "carbon_per_heat": ("单位热值含碳量", "Carbon content per unit of heat"),
    "carbon_content_per_heat": ("单位热值含碳量", "Carbon content per unit of heat"),
    "carbon_content": ("元素碳含量", "Carbon content"),
    "carbon_content_ad": ("空气干燥基元素碳含量", "Carbon content, air-dried basis"),
    "carbon_content_ar": ("收到基元素碳含量", "Carbon content, as-received basis"),
    "moisture_ad": ("空气干燥基水分", "Moisture, air-dried basis"),
    "moisture_ar": ("收到基水分", "Moisture, as-received basis"),
    "oxidation": ("碳氧化率", "Carbon oxidation rate"),
    "co2_factor": ("二氧化碳排放因子", "CO2 emission factor"),
    "density": ("密度", "Density"),
    "ch4_factor": ("甲烷排放因子", "CH4 emission factor"),
    "n2o_factor": ("氧化亚氮排放因子", "N2O emission factor"),
    "factor": ("排放因子", "Emission factor"),
    "electricity_mwh": ("购入使用电量", "Purchased electricity"),
    "grid_factor": ("电网排放因子", "Grid emission factor"),
    "heat_gj": ("购入热力", "Purchased heat"),
    "heat_factor": ("热力排放因子", "Heat emission factor"),
    "material_t": ("原料消耗量", "Raw material consumed"),
    "clinker_t": ("熟料产量", "Clinker produced"),
    "process_factor": ("过程排放因子", "Process emission factor"),
    "cao_fraction": ("氧化钙含量", "CaO content"),
    "mgo_fraction": ("氧化镁含量", "MgO content"),
    "carbonate_fraction": ("碳酸盐含量", "Carbonate content"),
    "conversion": ("转化率", "Conversion rate"),
    "covered_mwh": ("合同覆盖电量", "Electricity covered by contracts"),
    "residual_mwh": ("剩余电量", "Electricity not covered"),
    "residual_factor": ("剩余组合排放因子", "Residual-mix emission factor"),
    "hours": ("小时数", "Hours"),
    "tce_coefficient": ("折标准煤系数", "Standard-coal coefficient"),
}

#: Units shown as words (the rest are symbols, the same in both languages).
UNITS: dict[str, tuple[str, str]] = {
    "dimensionless": ("", ""),
    "": ("", ""),
}

#: Grid regions of data/grid.csv (a site's ``grid_region:``).
GRID_REGIONS: dict[str, tuple[str, str]] = {
    "national": ("全国电网", "national grid"),
    "north": ("华北区域电网", "North China grid"),
    "northeast": ("东北区域电网", "Northeast China grid"),
    "east": ("华东区域电网", "East China grid"),
    "central": ("华中区域电网", "Central China grid"),
    "northwest": ("西北区域电网", "Northwest China grid"),
    "south": ("南方区域电网", "China Southern grid"),
    "southwest": ("西南区域电网", "Southwest China grid"),
    "anhui": ("安徽省电网", "Anhui provincial grid"),
    "fujian": ("福建省电网", "Fujian provincial grid"),
    "guangxi": ("广西电网", "Guangxi grid"),
    "hebei": ("河北省电网", "Hebei provincial grid"),
    "inner_mongolia": ("内蒙古电网", "Inner Mongolia grid"),
    "qinghai": ("青海省电网", "Qinghai provincial grid"),
    "shanxi": ("山西省电网", "Shanxi provincial grid"),
    "sichuan": ("四川省电网", "Sichuan provincial grid"),
    "tianjin": ("天津市电网", "Tianjin grid"),
    "yunnan": ("云南省电网", "Yunnan provincial grid"),
}

#: Fuels of data/fuels.csv (a source's ``fuel:``).
FUELS: dict[str, tuple[str, str]] = {
    "anthracite": ("无烟煤", "anthracite"),
    "bituminous": ("烟煤", "bituminous coal"),
    "lignite": ("褐煤", "lignite"),
    "raw_coal": ("原煤", "raw coal"),
    "washed_coal": ("洗精煤", "washed coal"),
    "other_washed_coal": ("其他洗煤", "other washed coal"),
    "coke": ("焦炭", "coke"),
    "crude_oil": ("原油", "crude oil"),
    "fuel_oil": ("燃料油", "fuel oil"),
    "gasoline": ("汽油", "gasoline"),
    "diesel": ("柴油", "diesel"),
    "kerosene": ("煤油", "kerosene"),
    "lpg": ("液化石油气", "LPG"),
    "lng": ("液化天然气", "LNG"),
    "natural_gas": ("天然气", "natural gas"),
    "refinery_dry_gas": ("炼厂干气", "refinery dry gas"),
    "coke_oven_gas": ("焦炉煤气", "coke-oven gas"),
    "blast_furnace_gas": ("高炉煤气", "blast-furnace gas"),
    "converter_gas": ("转炉煤气", "converter gas"),
    "other_gas": ("其他煤气", "other gas"),
    "crude_benzene": ("粗苯", "crude benzene"),
    "tar": ("焦油", "tar"),
}

#: Engine notes written in English only, with their Chinese (a regular expression each;
#: groups are carried over). Bilingual notes ("中文 / English") need no entry.
NOTES_ZH: tuple[tuple[str, str], ...] = (
    (
        r"no residual factor given: the location-based grid factor is used for the uncovered "
        r"consumption \(GHG Protocol Scope 2 Guidance, when no residual mix exists\)",
        "未给出剩余组合因子：未覆盖电量按基于位置的电网排放因子计算（GHG Protocol 范围二指南，"
        "无剩余组合时）",
    ),
    (r"no non-carbonate (.+) given: taken as 0", r"未给出非碳酸盐\1：按 0 计"),
    (
        r"concentration actual → standard state by eq\. \((\d+)\)",
        r"浓度由实际状态换算为标准状态（式 (\1)）",
    ),
    (r"concentration wet → dry basis by eq\. \((\d+)\)", r"浓度由湿基换算为干基（式 (\1)）"),
    (
        r"flow actual wet → standard dry by eq\. \((\d+)\)",
        r"流量由实际湿态换算为标准干态（式 (\1)）",
    ),
    (
        r"(\d+) of (\d+) hours had fewer than (\S+) valid minutes \(eq\. \(24\)\) and are "
        r"excluded; substitution \(HJ 75\) is up to the accounting run",
        r"\2 小时中有 \1 小时有效分钟数少于 \3（式 (24)），已剔除；按 HJ 75 的替代由核算处理",
    ),
)


def _pick(tx: Lang, table: dict[str, tuple[str, str]], key: str) -> str | None:
    found = table.get(key)
    return None if found is None else tx(*found)


def parameter_label(tx: Lang, name: str) -> str:
    """The parameter's name in the report's language (``消耗量`` / ``Fuel consumed``)."""
    return _pick(tx, PARAMETERS, name) or name.replace("_", " ")


def unit_label(tx: Lang, unit: str) -> str:
    """A unit as shown: symbols as they are, ``dimensionless`` as nothing."""
    found = _pick(tx, UNITS, unit)
    return unit if found is None else found


def with_unit(label: str, unit: str) -> str:
    """``label [unit]``, or the bare label for a dimensionless value."""
    return f"{label} [{unit}]" if unit else label


def parameter_header(tx: Lang, name: str, unit: str) -> str:
    return with_unit(parameter_label(tx, name), unit_label(tx, unit))


def grid_region(tx: Lang, code: str | None) -> str:
    """The grid region's name (``east`` → 华东区域电网); "" for none."""
    return "" if not code else _pick(tx, GRID_REGIONS, code) or code


def fuel_label(tx: Lang, key: str) -> str:
    return _pick(tx, FUELS, key) or key.replace("_", " ")


def carrier_label(tx: Lang, carrier: str) -> str:
    """An energy carrier: a fuel of data/fuels.csv, electricity or heat."""
    if carrier == "electricity":
        return tx("电力", "electricity")
    if carrier == "heat":
        return tx("热力", "heat")
    return fuel_label(tx, carrier)


_CJK = re.compile(r"[\u3400-\u9fff]")
_MONTH = re.compile(r"^(\d{4}-\d{2}: )")
#: identifiers only (``carbon_content_per_heat``): plain words like "factor" stay words
_NAME = re.compile(
    r"\b(" + "|".join(sorted((k for k in PARAMETERS if "_" in k), key=len, reverse=True)) + r")\b"
)


def note(tx: Lang, text: str) -> str:
    """An engine note in the report's language.

    ``"2024-03: 中文 / English"`` keeps the side of the language (and the month prefix);
    an English-only note is translated by :data:`NOTES_ZH`; parameter ids become labels.
    """
    prefix = ""
    if found := _MONTH.match(text):
        prefix, text = found[1], text[found.end() :]
    zh_part, sep, en_part = text.partition(" / ")
    if sep and _CJK.search(zh_part):
        text = zh_part if tx.code == "zh" else en_part
    elif tx.code == "zh" and not _CJK.search(text):
        for pattern, replacement in NOTES_ZH:
            text = re.sub(pattern, replacement, text)
    label = parameter_label if tx.code == "zh" else _lower_label
    return prefix + _NAME.sub(lambda m: label(tx, m[1]), text)


def _lower_label(tx: Lang, name: str) -> str:
    text = parameter_label(tx, name)
    return text[0].lower() + text[1:]


#: The guideline of each sector in data/sectors.csv, as cited in the annual report
#: (report-templates.md §1; the power document number is [unverified] there).
GUIDELINES: dict[str, tuple[str, str]] = {
    "power": (
        "《企业温室气体排放核算与报告指南 发电设施》（环办气候函〔2022〕485号）",
        "MEE Guideline for GHG accounting and reporting — power-generation facilities "
        "(2022, 环办气候函〔2022〕485号)",
    ),
    "steel": (
        "《中国钢铁生产企业温室气体排放核算方法与报告指南（试行）》（发改办气候〔2013〕2526号）",
        "NDRC Guideline for GHG accounting and reporting — iron and steel producers "
        "(2013, 发改办气候〔2013〕2526号)",
    ),
    "cement": (
        "《中国水泥生产企业温室气体排放核算方法与报告指南（试行）》（发改办气候〔2013〕2526号）",
        "NDRC Guideline for GHG accounting and reporting — cement producers "
        "(2013, 发改办气候〔2013〕2526号)",
    ),
    "aluminium": (
        "《中国电解铝生产企业温室气体排放核算方法与报告指南（试行）》（发改办气候〔2013〕2526号）",
        "NDRC Guideline for GHG accounting and reporting — electrolytic aluminium producers "
        "(2013, 发改办气候〔2013〕2526号)",
    ),
    "chemicals": (
        "《中国化工生产企业温室气体排放核算方法与报告指南（试行）》（发改办气候〔2013〕2526号）",
        "NDRC Guideline for GHG accounting and reporting — chemical producers "
        "(2013, 发改办气候〔2013〕2526号)",
    ),
    "machinery": (
        "《机械设备制造企业温室气体排放核算方法与报告指南（试行）》（发改办气候〔2015〕1722号）",
        "NDRC Guideline for GHG accounting and reporting — machinery and equipment "
        "manufacturers (2015, 发改办气候〔2015〕1722号)",
    ),
    "general": (
        "《工业其他行业企业温室气体排放核算方法与报告指南（试行）》（发改办气候〔2015〕1722号）",
        "NDRC Guideline for GHG accounting and reporting — other industrial enterprises "
        "(2015, 发改办气候〔2015〕1722号)",
    ),
}
