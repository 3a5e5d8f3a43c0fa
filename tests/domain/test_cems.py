"""CEMS: HJ 212-2017 Appendix D equations, vectorised over hours, and validity thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.cems import (
    CemsConstants,
    actual_to_standard,
    cems_co2,
    hourly_mass_kg,
    ppm_to_mg_per_m3,
    standard_dry_flow,
    valid_periods,
    wet_to_dry,
)
from tansuan.domain.gases import gwp_set
from tansuan.errors import InputError

CONSTANTS = CemsConstants.from_catalog(shipped_catalog())
AR5 = gwp_set("AR5")


def test_constants_come_from_hj212() -> None:
    assert CONSTANTS.standard_pressure.value == 101325
    assert CONSTANTS.standard_temperature.value == 273
    assert CONSTANTS.molar_volume.value == 22.4
    assert CONSTANTS.min_minutes_per_hour.value == 45
    assert CONSTANTS.min_hours_per_day.value == 20
    assert CONSTANTS.standard_pressure.factor_id == "cems.standard_pressure"


def test_eq20_volume_fraction_to_mass_concentration() -> None:
    """12 %vol = 120 000 µmol/mol; C = M/22.4 × C_V = 44.009/22.4 × 120 000 = 235 762.5 mg/m3."""
    assert ppm_to_mg_per_m3(120_000.0, 44.009, 22.4) == pytest.approx(235_762.5, rel=1e-12)


def test_eq18_actual_to_standard() -> None:
    """C_s 1 000 mg/m3 at t_s 127 °C, B_a 101 325 Pa, P_s −1 325 Pa (absolute 100 000 Pa):
    C_sn = 1 000 × 101 325/100 000 × 400/273 = 1 013.25 × 1.4652014652 = 1 484.6153846 mg/m3."""
    out = actual_to_standard(
        1000.0,
        flue_temperature_c=127.0,
        ambient_pressure_pa=101_325.0,
        static_pressure_pa=-1_325.0,
        standard_pressure_pa=101_325.0,
        standard_temperature_k=273.0,
    )
    assert out == pytest.approx(1484.6153846, rel=1e-9)


def test_eq19_wet_to_dry() -> None:
    """C_dry = C_wet/(1 − X_sw) = 1 000/(1 − 0.10) = 1 111.1111111 mg/m3."""
    assert wet_to_dry(1000.0, 0.10) == pytest.approx(1111.1111111, rel=1e-9)


def test_eq31_standard_dry_flow() -> None:
    """Q_sh 100 000 m3/h, t_s 127 °C, B_a + P_s = 100 000 Pa, X_sw 0.10:
    Q_snh = 100 000 × 273/400 × 100 000/101 325 × 0.9 = 100 000 × 0.6825 × 0.9869232667 × 0.9
          = 60 621.7616580 m3/h."""
    out = standard_dry_flow(
        100_000.0,
        flue_temperature_c=127.0,
        ambient_pressure_pa=101_325.0,
        static_pressure_pa=-1_325.0,
        moisture=0.10,
        standard_pressure_pa=101_325.0,
        standard_temperature_k=273.0,
    )
    assert out == pytest.approx(60_621.7616580, rel=1e-9)


def test_eq33_hourly_mass() -> None:
    """G_h = C × Q × 10^-6 = 200 000 mg/m3 × 150 000 m3/h × 10^-6 = 30 000 kg/h."""
    assert hourly_mass_kg(200_000.0, 150_000.0) == pytest.approx(30_000.0, rel=1e-12)


def test_eq24_25_validity() -> None:
    """Hour valid with ≥ 45 valid minutes; day valid with ≥ 20 valid hours."""
    np.testing.assert_array_equal(
        valid_periods([60, 45, 44, 0], CONSTANTS.min_minutes_per_hour.value),
        [True, True, False, False],
    )
    np.testing.assert_array_equal(
        valid_periods([24, 20, 19], CONSTANTS.min_hours_per_day.value), [True, True, False]
    )


def test_hours_of_percent_wet_co2_with_an_invalid_hour() -> None:
    """Two valid hours of wet CO2 (%vol), X_sw 0.08, dry standard flow; the third hour has only
    30 valid minutes (< 45, eq. (24)) and is excluded.

    hour 1: 12.0 %vol → 120 000 × 44.009/22.4 = 235 762.5 mg/m3 wet → /0.92 = 256 263.5870 dry
            × 150 000 m3/h × 10^-6 = 38 439.5380 kg
    hour 2: 12.2 %vol → 239 691.5625 wet → 260 534.3071 dry × 152 000 × 10^-6 = 39 601.2663 kg
    total = 78 040.8043 kg = 78.0408043 t
    """
    result = cems_co2(
        concentration=np.array([12.0, 12.2, 11.8]),
        concentration_unit="%vol",
        flow=np.array([150_000.0, 152_000.0, 149_000.0]),
        flow_unit="m**3/h",
        constants=CONSTANTS,
        gwp=AR5,
        basis="wet",
        moisture=0.08,
        valid_minutes=[60, 60, 30],
    )
    assert result.gases_t["CO2"] == pytest.approx(78.0408043, rel=1e-9)
    assert result.details == {"hours": 3.0, "valid_hours": 2.0}
    assert any("excluded" in note for note in result.trace.notes)


def test_actual_wet_flow_and_concentration_in_mg_per_m3_flow_in_m3_per_s() -> None:
    """One hour: C_s 1 000 mg/m3 actual, wet; flow 100 000/3 600 m3/s actual wet; t_s 127 °C,
    B_a + P_s = 100 000 Pa, X_sw 0.10.
    C → standard (eq. 18): 1 484.6153846; → dry (eq. 19): /0.9 = 1 649.5726496 mg/m3.
    Q → standard dry (eq. 31): 60 621.7616580 m3/h.
    G = 1 649.5726496 × 60 621.7616580 × 10^-6 = 100.0000000 kg (the corrections cancel:
    101 325/100 000 × 400/273 / 0.9 × 273/400 × 100 000/101 325 × 0.9 = 1) → 0.1 t."""
    result = cems_co2(
        concentration=[1000.0],
        concentration_unit="mg/m3",
        flow=[100_000.0 / 3600.0],
        flow_unit="m**3/s",
        constants=CONSTANTS,
        gwp=AR5,
        basis="wet",
        state="actual",
        flow_state="actual_wet",
        flue_temperature_c=127.0,
        ambient_pressure_pa=101_325.0,
        static_pressure_pa=-1_325.0,
        moisture=0.10,
    )
    assert result.gases_t["CO2"] == pytest.approx(0.1, rel=1e-12)


def test_vectorised_over_a_year_of_hours() -> None:
    """8 760 hours of 200 000 mg/m3 × 100 000 m3/h: 20 000 kg/h × 8 760 h = 175 200 t."""
    hours = 8760
    result = cems_co2(
        concentration=np.full(hours, 200_000.0),
        concentration_unit="mg/m3",
        flow=np.full(hours, 100_000.0),
        flow_unit="m**3/h",
        constants=CONSTANTS,
        gwp=AR5,
    )
    assert result.co2e_t == pytest.approx(175_200.0, rel=1e-12)


def test_mismatched_arrays_and_missing_corrections_are_refused() -> None:
    with pytest.raises(InputError, match="2 concentration values but 1 flow"):
        cems_co2(
            concentration=[1.0, 2.0], concentration_unit="mg/m3", flow=[1.0],
            flow_unit="m**3/h", constants=CONSTANTS, gwp=AR5,
        )  # fmt: skip
    with pytest.raises(InputError) as info:
        cems_co2(
            concentration=[1.0], concentration_unit="mg/m3", flow=[1.0], flow_unit="m**3/h",
            constants=CONSTANTS, gwp=AR5, basis="wet", field="sources[5]",
        )  # fmt: skip
    assert info.value.field == "sources[5].moisture"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"basis": "wet", "moisture": 1.0}, "sources[1].moisture"),
        ({"basis": "wet", "moisture": -0.1}, "sources[1].moisture"),
        (
            {"state": "actual", "flue_temperature_c": 100.0, "ambient_pressure_pa": 1000.0,
             "static_pressure_pa": -2000.0},
            "sources[1].ambient_pressure",
        ),
    ],
)  # fmt: skip
def test_impossible_flue_conditions_are_refused(extra: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        cems_co2(
            concentration=[1.0], concentration_unit="mg/m3", flow=[1.0], flow_unit="m**3/h",
            constants=CONSTANTS, gwp=AR5, field="sources[1]", **extra,
        )  # fmt: skip
    assert info.value.field == field
