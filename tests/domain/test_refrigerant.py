"""Refrigerant and SF6 losses by simplified mass balance."""

from __future__ import annotations

import pytest

from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.gases import gwp_set
from tansuan.domain.refrigerant import loss_t, refrigerant_loss
from tansuan.domain.result import given
from tansuan.errors import InputError, UnknownFactor

CATALOG = shipped_catalog()


def terms(**values: float) -> dict:  # noqa: ANN401
    names = ("inventory_start", "inventory_end", "purchased", "sold", "retired_charge",
             "new_charge")  # fmt: skip
    return {n: given(n, values.get(n, 0.0), "t", field=f"sources[0].{n}") for n in names}


def test_simplified_mass_balance_terms() -> None:
    """L = (I_start − I_end) + (P − S) + (C_retired − C_new)
    = (0.5 − 0.3) + (0.4 − 0.1) + (0.2 − 0.25) = 0.2 + 0.3 − 0.05 = 0.45 t."""
    assert loss_t(0.5, 0.3, 0.4, 0.1, 0.2, 0.25) == pytest.approx(0.45, rel=1e-12)


def test_r410a_blend_split_into_components() -> None:
    """R-410A (HFC-32 50 %, HFC-125 50 %): loss (0.20 − 0.15) + 0.05 = 0.10 t
    → 0.05 t HFC-32 × 677 + 0.05 t HFC-125 × 3 170 (AR5) = 33.85 + 158.5 = 192.35 tCO2e."""
    result = refrigerant_loss(
        refrigerant="R-410A",
        components=CATALOG.refrigerant("R-410A"),
        gwp=gwp_set("AR5"),
        **terms(inventory_start=0.20, inventory_end=0.15, purchased=0.05),
    )
    assert result.gases_t == {"HFC-32": pytest.approx(0.05), "HFC-125": pytest.approx(0.05)}
    assert result.co2e_t == pytest.approx(192.35, rel=1e-9)


def test_r407c_under_ar4() -> None:
    """R-407C (HFC-32 23 %, HFC-125 25 %, HFC-134a 52 %), loss 1 t, AR4:
    0.23 × 675 + 0.25 × 3 500 + 0.52 × 1 430 = 155.25 + 875 + 743.6 = 1 773.85 tCO2e."""
    result = refrigerant_loss(
        refrigerant="R-407C",
        components=CATALOG.refrigerant("R-407C"),
        gwp=gwp_set("AR4"),
        **terms(purchased=1.0),
    )
    assert result.co2e_t == pytest.approx(1773.85, rel=1e-9)


def test_sf6_switchgear_with_new_equipment() -> None:
    """SF6: bought 0.5 t, 0.4 t of it charged into new switchgear: L = 0.5 − 0.4 = 0.1 t;
    × 23 500 (AR5) = 2 350 tCO2e."""
    result = refrigerant_loss(
        refrigerant="SF6",
        components=CATALOG.refrigerant("SF6"),
        gwp=gwp_set("AR5"),
        **terms(purchased=0.5, new_charge=0.4),
    )
    assert result.co2e_t == pytest.approx(2350.0, rel=1e-9)


def test_negative_loss_is_refused() -> None:
    with pytest.raises(InputError, match="negative loss") as info:
        refrigerant_loss(
            refrigerant="R-134a",
            components=CATALOG.refrigerant("R-134a"),
            gwp=gwp_set("AR5"),
            **terms(inventory_start=0.1, inventory_end=0.3),
        )
    assert info.value.field == "sources[0].inventory_end"


def test_unknown_refrigerant() -> None:
    with pytest.raises(UnknownFactor, match="R-999"):
        CATALOG.refrigerant("R-999", field="sources[0].refrigerant")
