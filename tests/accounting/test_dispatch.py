"""The method dispatch: typed inputs go straight to the domain methods, never through text."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from tansuan.accounting import activity_file, method_inputs
from tansuan.accounting.dispatch import calculate, compute
from tansuan.accounting.method_inputs import (
    KINDS,
    METHODS,
    CombustionInputs,
    Context,
    ElectricityInputs,
    Hourly,
    Measure,
    source_inputs,
)
from tansuan.domain import units
from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.gases import gwp_set
from tansuan.domain.result import EmissionResult
from tansuan.errors import InputError, UnitError


def _context() -> Context:
    return Context(shipped_catalog(), gwp_set("AR5"), 2024, dt.date(2024, 1, 1), "east")


def test_every_key_of_every_method_has_a_kind() -> None:
    for cls in METHODS.values():
        assert {f.name for f in dataclasses.fields(cls)} <= set(KINDS), cls.__name__


def test_typed_inputs_are_never_parsed_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """8 000 000 kWh × 0.5810 tCO2/MWh = 4 648 tCO2, with text parsing switched off."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a typed quantity was parsed as text")

    monkeypatch.setattr(units, "split", refuse)
    monkeypatch.setattr(units, "parse", refuse)
    monkeypatch.setattr(units, "magnitude", refuse)
    inputs = ElectricityInputs(
        amount=Measure(8_000_000.0, "kWh"), factor=Measure(0.5810, "tCO2/MWh")
    )
    result = compute(_context(), inputs, path="sources[0]")
    assert isinstance(result, EmissionResult)
    assert result.co2e_t == pytest.approx(4648.0, rel=1e-12)


def test_typed_and_written_inputs_give_the_same_result(examples: Path) -> None:
    """The file's boiler (10 000 t raw coal, 0.55 tC/t, OF 0.99) as typed inputs."""
    from_file = activity_file.calculate_file(examples / "plant.yaml").sources[0]
    typed = CombustionInputs(
        fuel="raw_coal",
        amount=Measure(10_000.0, "t"),
        carbon_content=Measure(0.55, "tC/t"),
        oxidation=Measure(0.99),
    )
    calculation = calculate(_context(), [("boiler", typed)])
    assert calculation.sources[0].as_dict() == from_file.as_dict()


def test_a_key_the_method_does_not_read_is_named() -> None:
    with pytest.raises(InputError, match=r"unknown key\(s\) amount for method refrigerant") as info:
        source_inputs("refrigerant", {"amount": Measure(1.0, "t")}, path="sources[0]")
    assert info.value.field == "sources[0].amount"
    with pytest.raises(InputError) as unknown:
        method_inputs.check_keys("teleport", (), path="sources[3]")
    assert unknown.value.field == "sources[3].method"


def test_a_value_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(InputError) as info:
        source_inputs("combustion", {"series": Measure(1.0, "t")}, path="sources[0]")
    assert info.value.field == "sources[0].series"


def test_a_wrong_unit_names_the_field() -> None:
    inputs = CombustionInputs(fuel="diesel", amount=Measure(10.0, "tC"))
    with pytest.raises(UnitError, match="unit 'tC' \\(carbon-mass\\) is not a mass unit") as info:
        compute(_context(), inputs, path="sources[4]")
    assert info.value.field == "sources[4].amount"


def test_hourly_values_in_another_unit_are_converted_by_factor() -> None:
    """Moisture 8 % for every hour equals the fraction 0.08 (HJ 212-2017 App. D eq. (19))."""
    base = {
        "concentration": Hourly((150_000.0,) * 3, "mg/m3"),
        "flow": Hourly((100_000.0,) * 3, "m3/h"),
        "basis": "wet",
    }
    as_percent = source_inputs(
        "cems", {**base, "moisture": Hourly((8.0,) * 3, "percent")}, path="sources[0]"
    )
    as_fraction = source_inputs("cems", {**base, "moisture": Measure(0.08)}, path="sources[0]")
    got = [compute(_context(), s, path="sources[0]") for s in (as_percent, as_fraction)]
    assert got[0].co2e_t == pytest.approx(got[1].co2e_t, rel=1e-12)
