"""The shipped reference tables: provenance on every row, metadata per table, no overlaps."""

from __future__ import annotations

from collections import defaultdict
from importlib.resources import files

import pytest

from tansuan.domain import tables
from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.gases import GWP_SETS, gwp_set
from tansuan.errors import ReferenceDataError

DATA = files("tansuan.data")


def test_every_csv_in_data_is_a_known_table_with_metadata() -> None:
    """A new table cannot slip in without being checked: every CSV is listed and has YAML."""
    shipped = {p.name[:-4] for p in DATA.iterdir() if p.name.endswith(".csv")}
    assert shipped == set(tables.ALL_TABLES)
    for table in tables.ALL_TABLES:
        assert DATA.joinpath(f"{table}.yaml").is_file(), f"{table}.yaml is missing"


@pytest.mark.parametrize("table", tables.ALL_TABLES)
def test_metadata_names_publisher_document_edition_licence_retrieved(table: str) -> None:
    meta = tables.metadata(table)
    for key in tables.METADATA_KEYS:
        assert str(meta[key]).strip(), f"{table}.yaml: {key} is empty"


@pytest.mark.parametrize("table", tables.ALL_TABLES)
def test_every_row_has_its_source_and_confidence_tag(table: str) -> None:
    for row in tables.rows(table):
        for column in tables.SOURCE_COLUMNS:
            assert row[column], f"{table}: a row lacks {column}: {row}"
        assert row["confidence"] in {"[V]", "[S]", "[M]"}


def test_a_row_without_source_is_refused() -> None:
    text = (
        "id,kind,key,value,unit,source_document,source_clause,source_edition,confidence\n"
        "x,ncv,coal,20,GJ/t,,Table 1,2013,[S]\n"
    )
    with pytest.raises(ReferenceDataError, match="line 2.*source_document"):
        tables.check_rows("bad.csv", text)


def test_a_row_with_an_unknown_confidence_tag_is_refused() -> None:
    text = "key,source_document,source_clause,source_edition,confidence\nx,doc,t1,2013,[X]\n"
    with pytest.raises(ReferenceDataError, match="confidence"):
        tables.check_rows("bad.csv", text)


def test_a_table_without_source_columns_is_refused() -> None:
    with pytest.raises(ReferenceDataError, match="no column"):
        tables.check_rows("bad.csv", "key,value\nx,1\n")


def test_metadata_without_licence_is_refused() -> None:
    meta = {"publisher": "p", "document": "d", "edition": "e", "retrieved": "r"}
    with pytest.raises(ReferenceDataError, match="licence"):
        tables.check_metadata("bad.yaml", meta)


def test_exact_fractions_parse() -> None:
    assert tables.parse_number("44/12", where="t") == 44 / 12
    with pytest.raises(ReferenceDataError):
        tables.parse_number("forty", where="t")


def test_no_two_rows_overlap_in_validity() -> None:
    """(kind, key, series, region) rows must not be valid on the same day."""
    groups = defaultdict(list)
    for factor in shipped_catalog().factors():
        groups[(factor.kind, factor.key, factor.series, factor.region)].append(factor)
    for key, rows in groups.items():
        rows.sort(key=lambda f: f.valid_from or __import__("datetime").date.min)
        for a, b in zip(rows, rows[1:], strict=False):
            assert a.valid_to is not None and b.valid_from is not None, key
            assert a.valid_to < b.valid_from, f"{a.id} overlaps {b.id}"


def test_refrigerant_components_exist_in_the_gwp_table() -> None:
    catalog = shipped_catalog()
    for name in ("R-410A", "R-407C", "R-404A", "R-507A", "R-134a", "SF6"):
        for component in catalog.refrigerant(name):
            assert gwp_set("AR5").gwp(component.gas).value > 0


def test_gwp_table_covers_every_set() -> None:
    for name in GWP_SETS:
        assert gwp_set(name).gwp("CO2").value == 1.0


def test_standard_coal_coefficients_are_the_tabulated_values_not_derived() -> None:
    """GB/T 2589-2020 App. A prints 0.1229 kgce/kWh; 3600/29307.6 would give 0.122835."""
    factor = shipped_catalog().lookup("tce_coefficient", "electricity")
    assert factor.value == 0.1229
    assert factor.value != pytest.approx(3600 / 29307.6, abs=1e-5)


def test_heat_table_ships_no_unsourced_default() -> None:
    """No sourced default heat factor exists, so none is shipped (heat.yaml says why)."""
    assert tables.rows("heat") == ()
    assert "no sourced default" in tables.metadata("heat")["document"]


def test_every_formula_is_documented_in_methods_md() -> None:
    """docs/methods.md lists every formula id a result can carry."""
    from pathlib import Path

    from tansuan.domain import (
        cems,
        combustion,
        direct,
        electricity,
        energy,
        mass_balance,
        process,
        refrigerant,
    )
    from tansuan.domain.result import Formula

    text = (Path(__file__).resolve().parents[2] / "docs" / "methods.md").read_text("utf-8")
    modules = (cems, combustion, direct, electricity, energy, mass_balance, process, refrigerant)
    formulas = [v for m in modules for v in vars(m).values() if isinstance(v, Formula)]
    assert len(formulas) >= 13
    for formula in formulas:
        assert f"`{formula.id}`" in text, f"{formula.id} is not in docs/methods.md"
