"""The factor catalog: lookup by kind, key, date, region and series; precedence."""

from __future__ import annotations

from datetime import date

import pytest

from tansuan.domain.catalog import Factor, FactorCatalog, shipped_catalog
from tansuan.domain.result import Origin
from tansuan.errors import MissingParameter, ReferenceDataError, UnknownFactor


@pytest.fixture(scope="module")
def catalog() -> FactorCatalog:
    return shipped_catalog()


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # domain-facts.md §2.4: 0.6101 for 2019–2020, 0.5810 for 2021–2022, 0.5703 from 2023
        (date(2020, 6, 30), 0.6101),
        (date(2021, 1, 1), 0.5810),
        (date(2022, 12, 31), 0.5810),
        (date(2023, 1, 1), 0.5703),
    ],
)
def test_ets_grid_factor_by_date(catalog: FactorCatalog, day: date, expected: float) -> None:
    factor = catalog.lookup("grid_electricity", "electricity", on=day, series="ets")
    assert factor.value == expected
    assert factor.unit == "tCO2/MWh"
    assert factor.confidence == "[S]"


def test_ets_is_the_default_series_and_is_national(catalog: FactorCatalog) -> None:
    """The ETS factor is one national value: a site in 华东 gets the national row."""
    factor = catalog.lookup("grid_electricity", "electricity", on=date(2022, 5, 1), region="east")
    assert (factor.series, factor.region, factor.value) == ("ets", "national", 0.5810)


def test_statistical_series_is_regional(catalog: FactorCatalog) -> None:
    """MEE-NBS 2022: 华东 0.5617, national 0.5366; 2023: 华东 0.5500 (domain-facts §2.4)."""
    on22, on23 = date(2022, 7, 1), date(2023, 7, 1)
    assert catalog.lookup("grid_electricity", "electricity", on=on22, region="east",
                          series="statistical").value == 0.5617  # fmt: skip
    assert catalog.lookup("grid_electricity", "electricity", on=on22,
                          series="statistical").value == 0.5366  # fmt: skip
    assert catalog.lookup("grid_electricity", "electricity", on=on23, region="east",
                          series="statistical").value == 0.5500  # fmt: skip


def test_a_series_is_never_substituted_by_another(catalog: FactorCatalog) -> None:
    """No statistical factor exists for 2024: the ETS value must not stand in for it."""
    with pytest.raises(UnknownFactor) as info:
        catalog.lookup("grid_electricity", "electricity", on=date(2024, 1, 1), series="statistical")
    message = str(info.value)
    assert "statistical" in message and "2024-01-01" in message and "national" in message


def test_unknown_key_names_key_date_and_region(catalog: FactorCatalog) -> None:
    with pytest.raises(UnknownFactor) as info:
        catalog.lookup("ncv", "unobtainium", on=date(2024, 1, 1), region="east")
    message = str(info.value)
    assert "'unobtainium'" in message and "2024-01-01" in message and "east" in message


def test_power_guideline_coal_default_changes_with_the_edition(catalog: FactorCatalog) -> None:
    """发电设施 2021: 0.03356 tC/GJ; 2022 revision and later: 0.03085 tC/GJ [M]."""
    get = catalog.lookup
    assert get("carbon_per_heat", "raw_coal", on=date(2021, 6, 1), series="mee_power").value == (
        0.03356
    )
    assert get("carbon_per_heat", "raw_coal", on=date(2024, 6, 1), series="mee_power").value == (
        0.03085
    )


def test_factor_converts_to_the_unit_asked_for(catalog: FactorCatalog) -> None:
    """Natural gas CC is printed 15.30 tC/TJ = 0.01530 tC/GJ; OF 99 % = 0.99."""
    cc = catalog.lookup("carbon_per_heat", "natural_gas").parameter("cc", "tC/GJ")
    assert cc.value == pytest.approx(0.0153, rel=1e-12)
    assert (
        cc.origin == Origin.DEFAULT and cc.factor_id == "fuel.mee_2013.natural_gas.carbon_per_heat"
    )
    assert "表2.1" in cc.source
    of = catalog.lookup("oxidation", "natural_gas").parameter("of", "dimensionless")
    assert of.value == pytest.approx(0.99, rel=1e-12)


def test_precedence_measured_over_supplier_over_default(catalog: FactorCatalog) -> None:
    args = ("ncv", "ncv", "diesel")
    measured = catalog.resolve(*args, unit="GJ/t", measured=43.1, supplier=42.9, field="f.ncv")
    supplier = catalog.resolve(*args, unit="GJ/t", supplier=42.9, field="f.ncv")
    default = catalog.resolve(*args, unit="GJ/t", field="f.ncv")
    assert (measured.value, measured.origin) == (43.1, Origin.MEASURED)
    assert (supplier.value, supplier.origin) == (42.9, Origin.SUPPLIER)
    assert (default.value, default.origin) == (42.652, Origin.DEFAULT)
    assert default.factor_id == "fuel.mee_2013.diesel.ncv"


def test_no_default_means_missing_parameter_naming_the_field(catalog: FactorCatalog) -> None:
    """Raw coal has no emission-default NCV and heat has no default factor at all."""
    with pytest.raises(MissingParameter) as info:
        catalog.resolve("ncv", "ncv", "raw_coal", unit="GJ/t", field="sources[0].ncv")
    assert info.value.field == "sources[0].ncv"
    with pytest.raises(MissingParameter, match="sources\\[3\\].factor"):
        catalog.resolve("f", "heat", "heat", unit="tCO2/GJ", field="sources[3].factor")


def _row(id_: str, valid_from: date | None, valid_to: date | None) -> Factor:
    return Factor(
        id=id_, kind="k", key="x", value=1.0, unit="t", region="national", series="s",
        valid_from=valid_from, valid_to=valid_to, source_document="d", source_clause="c",
        source_edition="e", confidence="[M]", note="", table="test",
    )  # fmt: skip


def test_overlapping_rows_are_a_reference_data_error() -> None:
    catalog = FactorCatalog([_row("a", None, None), _row("b", date(2020, 1, 1), None)])
    with pytest.raises(ReferenceDataError, match="overlap"):
        catalog.lookup("k", "x", on=date(2021, 1, 1), series="s")


def test_dated_rows_need_a_date() -> None:
    catalog = FactorCatalog(
        [_row("a", None, date(2019, 12, 31)), _row("b", date(2020, 1, 1), None)]
    )
    with pytest.raises(UnknownFactor, match="give a date"):
        catalog.lookup("k", "x", series="s")
    assert catalog.lookup("k", "x", on=date(2019, 1, 1), series="s").id == "a"


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ReferenceDataError, match="duplicate"):
        FactorCatalog([_row("a", None, None), _row("a", None, None)])


def test_the_ets_grid_factor_is_carried_forward_and_says_so(catalog: FactorCatalog) -> None:
    """No ETS factor is published for 2026 yet: the 2023–2025 value (0.5703 tCO2/MWh,
    环办气候函〔2023〕43号) is used provisionally, and its source says "carried forward".
    The statistical series is not carried forward (grid.yaml lists only ``ets``)."""
    factor = catalog.lookup("grid_electricity", "electricity", on=date(2026, 3, 1))
    assert (factor.id, factor.value) == ("grid.ets.national.2023", 0.5703)
    assert "carried forward to 2026-03-01" in factor.source
    inside = catalog.lookup("grid_electricity", "electricity", on=date(2025, 3, 1))
    assert "carried forward" not in inside.source
    with pytest.raises(UnknownFactor):
        catalog.lookup("grid_electricity", "electricity", on=date(2026, 3, 1), series="statistical")
