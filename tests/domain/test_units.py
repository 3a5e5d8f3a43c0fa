"""The unit registry: the field's units, aliases, factors and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tansuan.domain import units
from tansuan.errors import UnitError


@pytest.mark.parametrize(
    ("text", "to", "expected"),
    [
        ("1 t", "kg", 1000.0),
        ("1 GJ", "MJ", 1000.0),
        ("1 MWh", "kWh", 1000.0),
        ("1 MWh", "GJ", 3.6),  # 1 MWh = 3.6e9 J by definition of the watt-hour
        ("1 tce", "kgce", 1000.0),
        ("50 1e4Nm3", "Nm3", 500_000.0),
        ("50 万Nm3", "Nm3", 500_000.0),
        ("389.31 GJ/1e4Nm3", "GJ/Nm3", 0.038931),
        ("1 tC", "kgC", 1000.0),
        ("1 tCO2", "kgCO2", 1000.0),
        ("1 tCO2e", "kgCO2e", 1000.0),
        ("12 %vol", "ppm", 120_000.0),  # 1 %vol = 10^4 ppm
        ("1 mg/m3", "kg/m**3", 1e-6),
        ("0.5810 tCO2/MWh", "kgCO2/kWh", 0.5810),
    ],
)
def test_field_units_convert(text: str, to: str, expected: float) -> None:
    assert units.magnitude(text, to) == pytest.approx(expected, rel=1e-12)


def test_carbon_co2_and_coal_equivalent_are_not_silently_interconvertible() -> None:
    """tC -> tCO2 (x 44/12) and kWh -> kgce (tabulated) are accounting steps, not units."""
    with pytest.raises(UnitError):
        units.factor("tC", "tCO2")
    with pytest.raises(UnitError):
        units.factor("tCO2", "tCO2e")
    with pytest.raises(UnitError):
        units.factor("kWh", "kgce")
    with pytest.raises(UnitError):
        units.factor("m**3", "Nm3")


def test_wrong_dimension_names_the_field() -> None:
    with pytest.raises(UnitError, match=r"sources\[0\]\.amount.*kWh.*t"):
        units.magnitude("10 kWh", "t", field="sources[0].amount")


@pytest.mark.parametrize("bad", ["", "ten t", "5 furlongs_per_fortnight_x", "5 t/"])
def test_garbage_is_a_unit_error(bad: str) -> None:
    with pytest.raises(UnitError):
        units.magnitude(bad, "t", field="amount")


def test_factor_works_on_numpy_arrays() -> None:
    kwh = np.array([0.0, 1500.0, 2.5])
    np.testing.assert_allclose(kwh * units.factor("kWh", "MWh"), [0.0, 1.5, 0.0025])


def test_offset_units_have_no_pure_factor() -> None:
    with pytest.raises(UnitError):
        units.factor("degC", "K")


@given(
    value=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    pair=st.sampled_from(
        [
            ("t", "kg"),
            ("GJ", "MWh"),
            ("wNm3", "Nm3"),
            ("tce", "kgce"),
            ("pct_vol", "ppm"),
            ("tCO2/MWh", "kgCO2/kWh"),
            ("mg/m**3", "g/m**3"),
        ]
    ),
)
def test_round_trip(value: float, pair: tuple[str, str]) -> None:
    there = value * units.factor(*pair)
    back = there * units.factor(pair[1], pair[0])
    assert math.isclose(back, value, rel_tol=1e-12, abs_tol=1e-300)


@given(
    value=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    pair=st.sampled_from(
        [
            ("kWh", "MWh"),
            ("t", "kg"),
            ("1e4Nm3", "Nm3"),
            ("GJ/1e4Nm3", "GJ/wNm3"),
            ("%", "dimensionless"),
            ("(t/h)*h", "t"),
            ("%vol", "ppm"),
            ("kg/TJ", "t/GJ"),
            ("degC", "K"),
        ]
    ),
)
def test_convert_gives_the_number_magnitude_gives_for_the_text(
    value: float, pair: tuple[str, str]
) -> None:
    """A number and its unit convert to exactly the float its text would parse to."""
    assert units.convert(value, *pair) == units.magnitude(f"{value!r} {pair[0]}", pair[1])


def test_convert_words_a_wrong_dimension_as_magnitude_does() -> None:
    with pytest.raises(UnitError) as text:
        units.magnitude("10 kWh", "t", field="sources[0].amount")
    with pytest.raises(UnitError) as number:
        units.convert(10.0, "kWh", "t", field="sources[0].amount", shown="10 kWh")
    assert (number.value.message, number.value.field) == (text.value.message, text.value.field)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10000 t", (10000.0, "t")), ("50 1e4Nm3", (50.0, "1e4Nm3")), ("5", (5.0, "dimensionless")),
     (0.99, (0.99, "dimensionless"))],
)  # fmt: skip
def test_split_keeps_the_unit_as_written(text: str | float, expected: tuple[float, str]) -> None:
    assert units.split(text) == expected


@pytest.mark.parametrize("bad", ["", "ten t", "5 furlongs_per_fortnight_x", True])
def test_split_refuses_what_parse_refuses(bad: str | bool) -> None:
    with pytest.raises(UnitError) as info:
        units.split(bad, field="amount")
    assert info.value.field == "amount"
