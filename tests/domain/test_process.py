"""Carbonate process emissions: factor method, FGD sorbents, clinker oxides."""

from __future__ import annotations

import pytest

from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.gases import gwp_set
from tansuan.domain.process import carbonate, clinker, fgd_sorbent
from tansuan.domain.result import given
from tansuan.errors import InputError

CATALOG = shipped_catalog()
AR5 = gwp_set("AR5")


def factor(kind: str, key: str, unit: str = "tCO2/t"):  # noqa: ANN201
    return CATALOG.lookup(kind, key).parameter(key, unit)


def test_limestone_issue_example() -> None:
    """5 000 t limestone × 0.440 tCO2/t (steel guideline flux factor) = 2 200 tCO2."""
    result = carbonate(
        material=given("t", 5000, "t"), factor=factor("process_factor", "limestone"), gwp=AR5
    )
    assert result.co2e_t == pytest.approx(2200.0, rel=1e-12)
    assert result.trace.factors[0].factor_id == "process.limestone"


def test_dolomite() -> None:
    """1 000 t dolomite × 0.471 tCO2/t = 471 tCO2 (not the stoichiometric 0.47732)."""
    result = carbonate(
        material=given("t", 1000, "t"), factor=factor("process_factor", "dolomite"), gwp=AR5
    )
    assert result.co2e_t == pytest.approx(471.0, rel=1e-12)


def test_fgd_sorbent_with_defaults() -> None:
    """800 t limestone sorbent × I 90 % × EF(CaCO3) 0.440 × TR 100 % = 316.8 tCO2."""
    result = fgd_sorbent(
        sorbent=given("b", 800, "t"),
        carbonate_fraction=factor("fgd_carbonate_fraction", "default", "dimensionless"),
        factor=factor("fgd_sorbent_factor", "caco3"),
        conversion=factor("fgd_conversion", "default", "dimensionless"),
        gwp=AR5,
    )
    assert result.co2e_t == pytest.approx(316.8, rel=1e-12)


def test_clinker_oxide_method() -> None:
    """1 000 t clinker, CaO 65 %, MgO 2 %, no non-carbonate oxides (cement guideline):
    1 000 × (0.65 × 44/56 + 0.02 × 44/40) = 1 000 × (0.5107142857 + 0.022) = 532.7142857 tCO2."""
    result = clinker(
        clinker=given("q", 1000, "t"),
        cao=given("cao", 0.65, "dimensionless"),
        mgo=given("mgo", 0.02, "dimensionless"),
        co2_per_cao=CATALOG.constant("ratio", "co2_per_cao", unit="tCO2/t"),
        co2_per_mgo=CATALOG.constant("ratio", "co2_per_mgo", unit="tCO2/t"),
        gwp=AR5,
    )
    assert result.co2e_t == pytest.approx(532.7142857, rel=1e-9)


def test_clinker_with_non_carbonate_cao() -> None:
    """CaO 65 % of which 5 % from non-carbonate sources, MgO 2 % of which 0.5 %:
    1 000 × (0.60 × 44/56 + 0.015 × 44/40) = 471.4285714 + 16.5 = 487.9285714 tCO2."""
    result = clinker(
        clinker=given("q", 1000, "t"),
        cao=given("cao", 0.65, "dimensionless"),
        mgo=given("mgo", 0.02, "dimensionless"),
        cao_non_carbonate=given("cao_nc", 0.05, "dimensionless"),
        mgo_non_carbonate=given("mgo_nc", 0.005, "dimensionless"),
        co2_per_cao=CATALOG.constant("ratio", "co2_per_cao", unit="tCO2/t"),
        co2_per_mgo=CATALOG.constant("ratio", "co2_per_mgo", unit="tCO2/t"),
        gwp=AR5,
    )
    assert result.co2e_t == pytest.approx(487.9285714, rel=1e-9)


def test_non_carbonate_above_oxide_is_refused() -> None:
    with pytest.raises(InputError) as info:
        clinker(
            clinker=given("q", 1000, "t"),
            cao=given("cao", 0.05, "dimensionless"),
            mgo=given("mgo", 0.02, "dimensionless"),
            cao_non_carbonate=given("cao_nc", 0.06, "dimensionless", field="s[0].cao_nc"),
            co2_per_cao=CATALOG.constant("ratio", "co2_per_cao", unit="tCO2/t"),
            co2_per_mgo=CATALOG.constant("ratio", "co2_per_mgo", unit="tCO2/t"),
            gwp=AR5,
        )
    assert info.value.field == "s[0].cao_nc"
