"""Kyoto gases, GWP-100 sets and the inventory that never mixes sets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tansuan.domain.direct import direct
from tansuan.domain.gases import (
    KYOTO_GROUPS,
    Inventory,
    canonical_gas,
    gwp_set,
    kyoto_group,
    species,
)
from tansuan.domain.result import given as param
from tansuan.errors import GwpSetMismatch, UnknownFactor


@pytest.mark.parametrize(
    ("gas", "sar", "ar4", "ar5", "ar6"),
    [
        # domain-facts.md §1, read from S2 (openclimatedata/globalwarmingpotentials) [V]
        ("CH4", 21, 25, 28, 27.9),
        ("N2O", 310, 298, 265, 273),
        ("HFC-23", 11700, 14800, 12400, 14600),
        ("HFC-32", 650, 675, 677, 771),
        ("HFC-134a", 1300, 1430, 1300, 1530),
        ("HFC-125", 2800, 3500, 3170, 3740),
        ("HFC-143a", 3800, 4470, 4800, 5810),
        ("CF4", 6500, 7390, 6630, 7380),
        ("C2F6", 9200, 12200, 11100, 12400),
        ("SF6", 23900, 22800, 23500, 25200),
    ],
)
def test_gwp_values_match_the_reference(
    gas: str, sar: float, ar4: float, ar5: float, ar6: float
) -> None:
    for name, expected in (("SAR", sar), ("AR4", ar4), ("AR5", ar5), ("AR6", ar6)):
        assert gwp_set(name).gwp(gas).value == expected


def test_ar6_splits_fossil_and_non_fossil_methane() -> None:
    """IPCC AR6 WGI Table 7.15: fossil CH4 29.8, non-fossil 27.0."""
    ar6 = gwp_set("AR6")
    assert ar6.gwp("CH4_fossil").value == 29.8
    assert ar6.gwp("CH4_non_fossil").value == 27.0
    with pytest.raises(UnknownFactor, match="AR5 has no value for CH4_fossil"):
        gwp_set("AR5").gwp("CH4_fossil")


def test_nf3_has_no_sar_value_and_nothing_is_substituted() -> None:
    assert gwp_set("AR4").gwp("NF3").value == 17200
    with pytest.raises(UnknownFactor, match="SAR has no value for NF3"):
        gwp_set("SAR").gwp("NF3")


def test_all_seven_kyoto_groups_with_individual_species() -> None:
    groups = {gas.kyoto_group for gas in species()}
    assert groups == set(KYOTO_GROUPS)
    hfcs = [g.name for g in species() if g.kyoto_group == "HFCs"]
    pfcs = [g.name for g in species() if g.kyoto_group == "PFCs"]
    assert {"HFC-23", "HFC-32", "HFC-125", "HFC-134a", "HFC-143a"} <= set(hfcs)
    assert {"CF4", "C2F6"} <= set(pfcs)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("hfc134a", "HFC-134a"), ("HFC 32", "HFC-32"), ("PFC-14", "CF4"), ("sf6", "SF6")],
)
def test_gas_names_are_normalised(written: str, canonical: str) -> None:
    assert canonical_gas(written) == canonical


def test_unknown_gas_and_unknown_set_raise() -> None:
    with pytest.raises(UnknownFactor, match="unknown gas"):
        canonical_gas("XYZ-99", field="sources[0].gases.XYZ-99")
    with pytest.raises(UnknownFactor, match="unknown GWP set"):
        gwp_set("AR7")


def test_co2e_of_a_mixture() -> None:
    """AR5: 1 t CH4 × 28 + 0.1 t N2O × 265 + 0.01 t SF6 × 23 500 = 28 + 26.5 + 235 = 289.5."""
    co2e, used = gwp_set("AR5").co2e({"CH4": 1.0, "N2O": 0.1, "SF6": 0.01})
    assert co2e == pytest.approx(289.5, rel=1e-12)
    assert [p.factor_id for p in used] == ["gwp.AR5.CH4", "gwp.AR5.N2O", "gwp.AR5.SF6"]


def test_inventory_refuses_to_mix_gwp_sets() -> None:
    inventory = Inventory("AR5")
    inventory.add(direct(gases=[("SF6", param("sf6", 0.1, "t"))], gwp=gwp_set("AR5")))
    other = direct(gases=[("SF6", param("sf6", 0.1, "t"))], gwp=gwp_set("AR4"))
    with pytest.raises(GwpSetMismatch, match="AR4.*AR5") as info:
        inventory.add(other, field="sources[1]")
    assert info.value.field == "sources[1]"
    assert len(inventory.results) == 1  # the refused result was not added


def test_kyoto_group_rolls_species_up() -> None:
    inventory = Inventory("AR5")
    gases = [("HFC-32", param("a", 0.05, "t")), ("HFC-125", param("b", 0.05, "t"))]
    inventory.add(direct(gases=gases, gwp=gwp_set("AR5")))
    assert kyoto_group("HFC-32") == "HFCs"
    assert inventory.by_group_t() == {"HFCs": pytest.approx(0.1)}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["CO2", "CH4", "N2O", "HFC-134a", "CF4", "SF6", "NF3"]),
            st.floats(min_value=0, max_value=1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_inventory_total_is_the_sum_of_its_parts(parts: list[tuple[str, float]]) -> None:
    gwp = gwp_set("AR5")
    results = [direct(gases=[(gas, param("m", t, "t"))], gwp=gwp) for gas, t in parts]
    inventory = Inventory("AR5", results)
    expected = sum(t * gwp.gwp(gas).value for gas, t in parts)
    assert inventory.total_co2e_t == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert sum(inventory.gases_t().values()) == pytest.approx(
        sum(t for _, t in parts), rel=1e-9, abs=1e-9
    )
