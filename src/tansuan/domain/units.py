"""The one unit registry of tansuan, and fast numeric conversion factors.

All units of the field are defined once, in ``tansuan/data/units.txt`` (a pint
definition file): t, kg, GJ, MJ, MWh, kWh, tce, kgce, Nm3, 10^4 Nm3 (``wNm3``,
written ``1e4Nm3`` or ``万Nm3`` in input), tC, tCO2, tCO2e, %vol, mg/m3, ppm, and the
heat units of fuel trade (Btu, MMBtu, therm). ``MBtu`` is refused: it reads as 10^3 Btu
in US trade and 10^6 Btu by the SI prefix, a factor of 1000 apart.

Errors name the unit as the user wrote it and the kind of unit expected ("unit 'thm'
(energy) is not a mass unit (expected e.g. t, kg)"), never pint's internals.

Quantities arrive as text ("10000 t", "389.31 GJ/1e4Nm3") and are converted *once*
to a canonical unit; hot loops multiply numpy arrays by :func:`factor`.

>>> factor("kWh", "MWh")
0.001
>>> magnitude("50 1e4Nm3", "Nm3", field="amount")
500000.0
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
from typing import Any

import pint

from tansuan.errors import UnitError

ureg: pint.UnitRegistry[Any] = pint.UnitRegistry(
    autoconvert_offset_to_baseunit=True, cache_folder=None
)
ureg.load_definitions(str(files("tansuan.data").joinpath("units.txt")))
ureg.formatter.default_format = "~P"

Quantity = ureg.Quantity

# Spellings people write that pint cannot parse as written. Order matters.
_ALIASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:1e4|10\^4|10⁴|10\*\*4)\s*N?m(?:3|³|\^3|\*\*3)"), "wNm3"),
    (re.compile(r"万\s*(?:Nm3|Nm³|m3|m³|标立方米|立方米)"), "wNm3"),
    (re.compile(r"万\s*tce"), "wtce"),
    (re.compile(r"Nm³|Nm\^3|Nm\*\*3"), "Nm3"),
    (re.compile(r"(?<![A-Za-z])(k?m)(?:³|\^3|3)(?![0-9])"), r"\1**3"),
    (re.compile(r"(?<![A-Za-z])(k?m)(?:²|\^2|2)(?![0-9])"), r"\1**2"),
    (re.compile(r"%\s*vol|vol\s*%|% ?v/v"), "pct_vol"),
    (re.compile(r"%"), "percent"),
    (re.compile(r"℃|°C|degC"), "degC"),
)


#: ``MBtu`` and its case variants, not part of ``MMBtu``/``kBtu``.
_AMBIGUOUS_MBTU = re.compile(r"(?<![A-Za-z])M(?:Btu|BTU|btu)(?![A-Za-z])")

#: Kinds of unit, for messages: a reference unit of the dimension, its name (zh, en) and
#: the spellings to suggest. Labels only: every conversion is defined in units.txt.
_KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("J", "能量", "an energy", "GJ, TJ, MWh, therm, MMBtu"),
    ("kg", "质量", "a mass", "t, kg"),
    ("Nm3", "标准状况体积", "a normal-volume", "Nm3, 1e4Nm3"),
    ("m**3", "体积", "a volume", "m3, L"),
    ("tC", "碳质量", "a carbon-mass", "tC, kgC"),
    ("tCO2", "CO2 质量", "a CO2-mass", "tCO2, kgCO2"),
    ("tCO2e", "CO2 当量", "a CO2e", "tCO2e"),
    ("kgce", "标准煤当量", "a coal-equivalent", "tce, kgce"),
    ("dimensionless", "无量纲（比例）", "a dimensionless (fraction)", "%, 0.98"),
    ("W", "功率", "a power", "kW, MW"),
    ("Pa", "压力", "a pressure", "Pa, kPa"),
    ("K", "温度", "a temperature", "degC, K"),
)


def _kind(parsed: pint.Unit) -> tuple[str, str, str] | None:
    """(zh name, en name, examples) of the kind of ``parsed``, if it is a simple kind."""
    for reference, zh, en, examples in _KINDS:
        if ureg.parse_units(reference).dimensionality == parsed.dimensionality:
            return zh, en, examples
    return None


def mismatch(written: str, expected: str, *, shown: str = "") -> str:
    """A readable, bilingual message: ``written`` cannot stand where ``expected`` is needed.

    >>> mismatch("thm", "t").split(" / ")[1]
    "unit 'thm' (energy) is not a mass unit (expected e.g. t, kg)"
    """
    got, want = _kind(unit(written)), _kind(unit(expected))
    what_zh = f"（{got[0]}）" if got else ""
    what_en = f" ({got[1].split(' ', 1)[1]})" if got else ""
    where = f"{shown}: " if shown and shown.strip() != written.strip() else ""
    if want is not None:
        zh = f"不是{want[0]}单位（应为如 {want[2]}）"
        en = f"is not {want[1]} unit (expected e.g. {want[2]})"
    else:
        zh = f"不能换算为 {expected}"
        en = f"cannot be converted to {expected} (expected a unit like {expected})"
    if "CO2" in expected and "CO2" not in written:  # tCO2 is a dimension of its own
        zh += "；请在单位中写出气体，如 kgCO2/TJ"
        en += "; write the gas in the unit, e.g. kgCO2/TJ"
    return f"{where}单位 {written!r}{what_zh}{zh} / unit {written!r}{what_en} {en}"


def normalise_unit_text(text: str) -> str:
    """Rewrite common spellings (``1e4Nm3``, ``万Nm3``, ``m³``, ``%vol``) into registry names."""
    out = text.strip()
    for pattern, replacement in _ALIASES:
        out = pattern.sub(replacement, out)
    return out


@lru_cache(maxsize=1024)
def unit(text: str) -> pint.Unit:
    """Parse a unit expression, raising :class:`UnitError` if it is unknown or ambiguous.

    ``MBtu`` is refused (see units.txt): write ``MMBtu`` for 10^6 Btu, ``kBtu`` for 10^3.
    """
    if _AMBIGUOUS_MBTU.search(text):
        raise UnitError(
            f"单位 {text!r} 有歧义：MBtu 在美国惯用中为千 Btu（10³ Btu），按 SI 词头 M 则为"
            "百万 Btu（10⁶ Btu），相差 1000 倍；请写 MMBtu（10⁶ Btu）或 kBtu（10³ Btu） / "
            f"unit {text!r} is ambiguous: MBtu is 10^3 Btu in US usage (M = Roman thousand) "
            "but 10^6 Btu by the SI prefix M, a factor of 1000 apart; write MMBtu (10^6 Btu) "
            "or kBtu (10^3 Btu)"
        )
    try:
        parsed = ureg.parse_units(normalise_unit_text(text))
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, ValueError) as exc:
        raise UnitError(f"未知单位 {text!r} / unknown unit {text!r}") from exc
    except Exception as exc:  # pint's tokenizer raises assorted errors on garbage
        raise UnitError(f"无法解析单位 {text!r} / cannot parse unit {text!r}") from exc
    return parsed


_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def split(text: str | float | int, *, field: str | None = None) -> tuple[float, str]:
    """The number and the unit text of ``"10000 t"``; the unit is checked, not converted.

    A bare number (or a text without a unit) is ``dimensionless``. The errors are those of
    :func:`parse`, which this reads for.

    >>> split("50 1e4Nm3")
    (50.0, '1e4Nm3')
    """
    if isinstance(text, bool):
        raise UnitError(f"expected a quantity, got {text!r}", field=field)
    if isinstance(text, int | float):
        return float(text), "dimensionless"
    match = _NUMBER.match(str(text))
    if not match:
        raise UnitError(f"expected a number followed by a unit, got {text!r}", field=field)
    number, unit_text = match.groups()
    if not unit_text:
        return float(number), "dimensionless"
    try:
        unit(unit_text)
    except UnitError as exc:
        raise UnitError(exc.message, field=field) from None
    return float(number), unit_text


def parse(text: str | float | int, *, field: str | None = None) -> pint.Quantity[float]:
    """Parse ``"10000 t"`` into a pint Quantity; a bare number is dimensionless."""
    number, unit_text = split(text, field=field)
    return Quantity(number, unit(unit_text))


def magnitude(
    value: str | float | int | pint.Quantity[Any], to: str, *, field: str | None = None
) -> float:
    """Convert a quantity (text, number or Quantity) to ``to`` and return the number.

    A bare number is taken to be already in ``to``. A wrong dimension raises
    :class:`UnitError` naming ``field`` and both units.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    quantity = value if isinstance(value, pint.Quantity) else parse(value, field=field)
    target = unit(to)
    try:
        return float(quantity.to(target).magnitude)
    except pint.errors.DimensionalityError:
        written = split(value, field=field)[1] if isinstance(value, str) else f"{quantity.units}"
        raise UnitError(mismatch(written, to, shown=str(value)), field=field) from None


def convert(
    value: float, from_unit: str, to_unit: str, *, field: str | None = None, shown: str = ""
) -> float:
    """A number in ``from_unit`` converted to ``to_unit``: ``value × factor(from, to)``.

    The same number :func:`magnitude` gives for the quantity written as text (pint converts
    by multiplying with the same factor), without writing and parsing any text. Offset
    units (°C ↔ K) are converted by pint. A wrong dimension raises :class:`UnitError`
    naming ``field`` and both units, worded as :func:`magnitude` words it; ``shown`` is the
    quantity as the user wrote it (default ``"<value> <from_unit>"``).
    """
    if from_unit == to_unit:
        return value
    source, target = unit(from_unit), unit(to_unit)
    if source.dimensionality != target.dimensionality:
        raise UnitError(
            mismatch(from_unit, to_unit, shown=shown or f"{value!r} {from_unit}"), field=field
        )
    try:
        return value * factor(from_unit, to_unit)
    except UnitError:  # an offset unit: not a pure factor
        return float(Quantity(value, source).to(target).magnitude)


@lru_cache(maxsize=4096)
def factor(from_unit: str, to_unit: str) -> float:
    """The number to multiply values in ``from_unit`` by to get ``to_unit``.

    For use with numpy arrays in hot paths. Offset units (°C) are refused
    because they are not a pure factor.
    """
    source, target = unit(from_unit), unit(to_unit)
    try:
        ratio = (1.0 * source).to(target)
    except pint.errors.DimensionalityError:
        raise UnitError(mismatch(from_unit, to_unit)) from None
    except pint.errors.OffsetUnitCalculusError:
        raise UnitError(f"{from_unit} -> {to_unit} has an offset, not a pure factor") from None
    offset_check = (0.0 * source).to(target).magnitude
    if offset_check != 0.0:
        raise UnitError(f"{from_unit} -> {to_unit} has an offset, not a pure factor")
    return float(ratio.magnitude)


def same_dimension(a: str, b: str) -> bool:
    """True when quantities in ``a`` can be converted to ``b``."""
    return bool(unit(a).dimensionality == unit(b).dimensionality)


def canonical(text: str) -> str:
    """The registry's short spelling of a unit expression (``'t/wNm3'``)."""
    return f"{unit(text):~}"
