"""Boilers and kilns: fuel flow → flue gas whose CO2 matches the fuel's carbon.

The CO2 a fuel yields per tonne is the guidelines' heat-based product
``NCV × CC × OF × 44/12`` (MEE 2022 / NDRC 2013 sector guidelines; IPCC 2006 Vol. 2
eq. 2.1), every parameter read from the shipped factor catalog — none typed here.
The flue gas is modelled by its specific dry volume at standard state per kg of fuel
(a property of the fuel and the excess air, a device parameter), so the CEMS
concentration is ``C = CO2 mass rate / dry standard flow`` and the CEMS-derived
CO2 equals the fuel-derived CO2 up to the analysers' errors by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tansuan.domain.catalog import FactorCatalog
from tansuan.twin.calendar import F64

#: Oxygen in dry air [%vol], for the flue-gas O2 at a given excess-air ratio.
O2_IN_AIR_PCT = 20.95


@dataclass(frozen=True)
class Fuel:
    """A fuel's carbon by the heat-based method, with the catalog ids it came from."""

    key: str
    ncv_gj_per_t: float
    carbon_per_heat_tc_per_gj: float
    oxidation: float
    co2_per_c: float
    factor_ids: tuple[str, ...]

    @classmethod
    def from_catalog(cls, catalog: FactorCatalog, key: str) -> Fuel:
        ncv = catalog.lookup("ncv", key)
        cc = catalog.lookup("carbon_per_heat", key)
        of = catalog.lookup("oxidation", key)
        ratio = catalog.constant("ratio", "co2_per_c", unit="tCO2/tC")
        return cls(
            key,
            ncv.parameter("ncv", "GJ/t").to("GJ/t"),
            cc.parameter("carbon_per_heat", "tC/GJ").to("tC/GJ"),
            of.parameter("oxidation", "dimensionless").to("dimensionless"),
            ratio.to("tCO2/tC"),
            (ncv.id, cc.id, of.id, "ratio.co2_per_c"),
        )

    @property
    def co2_t_per_t(self) -> float:
        """CO2 per tonne of fuel burnt [tCO2/t]."""
        return self.ncv_gj_per_t * self.carbon_per_heat_tc_per_gj * self.oxidation * self.co2_per_c

    @property
    def carbon_content_tc_per_t(self) -> float:
        """As-received carbon content [tC/t] (what a lab would report)."""
        return self.ncv_gj_per_t * self.carbon_per_heat_tc_per_gj


@dataclass(frozen=True)
class Boiler:
    """A fuel-fired boiler (or kiln burner) and its stack.

    Attributes
    ----------
    fuel : the fuel burnt
    max_fuel_t_h : fuel rate at full load [t/h]
    flue_nm3_per_kg : dry flue gas at standard state per kg of fuel at design excess air [Nm3/kg]
    excess_air : design excess-air ratio λ at full load [-]
    process_co2_t_h : extra CO2 into the same stack at full load (kiln calcination) [t/h]
    """

    fuel: Fuel
    max_fuel_t_h: float
    flue_nm3_per_kg: float
    excess_air: float = 1.25
    process_co2_t_h: float = 0.0

    def run(self, load: F64) -> dict[str, F64]:
        """Fuel rate [t/h], CO2 [t/h], dry standard flue flow [m3/h], CO2 [mg/m3], O2 [%]."""
        load = np.clip(load, 0.0, 1.0)
        fuel_t_h = self.max_fuel_t_h * load
        co2_t_h = fuel_t_h * self.fuel.co2_t_per_t + self.process_co2_t_h * load
        # More excess air at low load: λ rises as load falls.
        lam = self.excess_air + 0.35 * (1.0 - load)
        flow_m3_h = fuel_t_h * 1000.0 * self.flue_nm3_per_kg * lam / self.excess_air
        burning = flow_m3_h > 0
        co2_mg_m3 = np.where(burning, co2_t_h * 1e9 / np.where(burning, flow_m3_h, 1.0), 0.0)
        o2_pct = np.where(burning, O2_IN_AIR_PCT * (lam - 1.0) / lam, O2_IN_AIR_PCT)
        return {
            "fuel_t_h": fuel_t_h,
            "co2_t_h": co2_t_h,
            "flow_m3_h": flow_m3_h,
            "co2_mg_m3": co2_mg_m3,
            "o2_pct": o2_pct,
        }
