"""Writes the demo site models shipped in ``twin/sites/`` (run: ``python -m tansuan.twin.sitegen``).

The YAML files are the product; this script is how they were made (the shipyard has
~300 fans, too many to write by hand). Fan sizes and VFD shares are seeded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

SITES_DIR = Path(__file__).with_name("sites")

#: HJ 212-2017 pollutant codes (Appendix B) of the stack points.
STACK_CODES = {
    "co2": ("a05001", "mg/m3", (0, 700000)),
    "flow": ("a00000", "m3/h", (0, 5e6)),
    "o2": ("a19001", "percent", (0, 25)),
    "so2": ("a21026", "mg/m3", (0, 2000)),
    "nox": ("a21002", "mg/m3", (0, 2000)),
    "dust": ("a34013", "mg/m3", (0, 500)),
    "temp": ("a01012", "degC", (-20, 400)),
}


def _stack(device_id: str, boiler: str, connection: str) -> dict[str, Any]:
    points = []
    for suffix, (code, unit, valid) in STACK_CODES.items():
        points.append(
            {
                "id": f"{device_id}.{suffix}",
                "quantity": "concentration" if unit == "mg/m3" else suffix,
                "unit": unit,
                "interval_s": 300,
                "valid_range": list(valid),
                "protocol": {"hj212": {"connection": connection, "code": code, "field": "Avg"}},
            }
        )
    return {
        "id": device_id,
        "name": "烟气在线监测 CEMS",
        "class": "cems",
        "tags": [f"stack-of:{boiler}"],
        "points": points,
    }


def _power(device_id: str, rated_kw: float, interval_s: int = 900) -> dict[str, Any]:
    return {
        "id": f"{device_id}.power",
        "quantity": "power",
        "unit": "kW",
        "interval_s": interval_s,
        "valid_range": [0, round(rated_kw * 1.6, 1)],
    }


def _energy(device_id: str, unit: str = "kWh", interval_s: int = 900) -> dict[str, Any]:
    return {
        "id": f"{device_id}.energy",
        "quantity": "energy",
        "unit": unit,
        "kind": "total_increasing",
        "interval_s": interval_s,
    }


def _model(
    group: tuple[str, str], company: tuple[str, str], site: dict[str, Any]
) -> dict[str, Any]:
    return {
        "version": 1,
        "organisation": {
            "id": group[0],
            "name": group[1],
            "companies": [{"id": company[0], "name": company[1], "sites": [site]}],
        },
    }


def shipyard(seed: int = 2015) -> dict[str, Any]:
    """A Xiamen shipyard: ~300 ten-year-old fans in six workshops, compressed air,
    welding, an oil-fired boiler with CEMS over HJ 212, and the grid supply."""
    rng = np.random.default_rng(seed)
    shops = [
        ("hull-shop", "船体车间 Hull shop", 60),
        ("block-shop", "分段车间 Block assembly", 60),
        ("paint-shop", "涂装车间 Painting", 70),
        ("outfitting", "舾装车间 Outfitting", 40),
        ("pipe-shop", "管子车间 Pipe shop", 40),
        ("dock", "船坞 Dry dock", 30),
    ]
    sizes = np.array([5.5, 7.5, 11.0, 15.0, 18.5, 22.0, 30.0])
    weights = np.array([0.12, 0.2, 0.22, 0.18, 0.12, 0.1, 0.06])
    areas = []
    number = 0
    for shop_id, name, count in shops:
        fans = []
        for _ in range(count):
            number += 1
            fan_id = f"fan-{number:03d}"
            rated = float(rng.choice(sizes, p=weights))
            cooling = shop_id in ("paint-shop", "dock") or rng.random() < 0.25
            tags = ["cooling" if cooling else "ventilation"]
            if rng.random() < 0.3:
                tags.append("vfd")
            tags.append(f"motor_efficiency:{rng.uniform(0.82, 0.89):.3f}")
            fans.append(
                {
                    "id": fan_id,
                    "class": "fan",
                    "rated_power_kw": rated,
                    "commissioned": f"2015-{int(rng.integers(1, 13)):02d}-01",
                    "tags": tags,
                    "points": [_power(fan_id, rated)],
                }
            )
        welder = f"{shop_id}-welding"
        feeder = f"{shop_id}-fan-feeder"
        areas.append(
            {
                "id": shop_id,
                "name": name,
                "kind": "workshop",
                "areas": [
                    {
                        "id": f"{shop_id}-vent",
                        "name": f"{name.split()[0]}通风 ventilation",
                        "kind": "line",
                        "devices": fans,
                    }
                ],
                "devices": [
                    {
                        "id": feeder,
                        "name": "风机馈线电表 fan feeder meter",
                        "class": "meter",
                        "tags": [f"feeds:{shop_id}-vent"],
                        "points": [_energy(feeder)],
                    },
                    {
                        "id": welder,
                        "name": "焊机组 welding sets",
                        "class": "welder",
                        "rated_power_kw": 400.0 if shop_id != "dock" else 250.0,
                        "points": [_power(welder, 400.0), _energy(welder)],
                    },
                ],
            }
        )
    compressors = [
        {
            "id": f"compressor-{i}",
            "name": f"{i}号空压机 air compressor {i}",
            "class": "compressor",
            "rated_power_kw": 250.0,
            "commissioned": "2016-05-01",
            "points": [
                {
                    **_power(f"compressor-{i}", 250.0, 60),
                    "protocol": {
                        "modbus": {
                            "connection": "meter-bus",
                            "register": 10 + 2 * i,
                            "data_type": "float32",
                        }
                    },
                },
                _energy(f"compressor-{i}"),
            ],
        }
        for i in range(1, 5)
    ]
    utilities = {
        "id": "utilities",
        "name": "动力站 Utilities",
        "kind": "building",
        "devices": [
            *compressors,
            {
                "id": "boiler-1",
                "name": "燃油蒸汽锅炉 oil-fired steam boiler",
                "class": "boiler",
                "commissioned": "2014-09-01",
                "tags": ["fuel:fuel_oil", "fuel_t_h:0.9", "flue_nm3_per_kg:13.5"],
                "points": [
                    {
                        "id": "boiler-1.fuel",
                        "quantity": "fuel_flow",
                        "unit": "t/h",
                        "interval_s": 300,
                        "valid_range": [0, 2],
                        "protocol": {
                            "opcua": {"connection": "boiler-plc", "node": "ns=2;s=Boiler.FuelFlow"}
                        },
                    }
                ],
            },
            _stack("stack-1", "boiler-1", "stack-logger"),
            {
                "id": "grid-meter",
                "name": "关口电表 grid supply meter",
                "class": "meter",
                "tags": ["feeds:site"],
                "points": [
                    {
                        **_energy("grid-meter", interval_s=900),
                        # a uint32 register of 0.01 kWh wraps at 42,949,672.96 kWh
                        "rollover": 42949672.96,
                        "protocol": {
                            "modbus": {
                                "connection": "meter-bus",
                                "register": 0,
                                "data_type": "uint32",
                                "scale": 0.01,
                            }
                        },
                    }
                ],
            },
        ],
    }
    site = {
        "id": "shipyard",
        "name": "厦门示范船厂 Xiamen demo shipyard",
        "timezone": "Asia/Shanghai",
        "grid_region": "east",
        # The yard's energy budget under dual control (能耗双控), illustrative: the twin
        # uses about 13 000 tce a year, so the demo's alerts have something to say.
        "energy_budget_tce": 12_500.0,
        "location": {"latitude": 24.45, "longitude": 118.07, "address": "Haicang, Xiamen"},
        "connections": [
            {"id": "stack-logger", "protocol": "hj212", "mn": "35020000000001",
             "password": "123456"},
            {"id": "meter-bus", "protocol": "modbus", "host": "127.0.0.1", "port": 5020,
             "unit_id": 1, "poll_interval_s": 10},
            {"id": "boiler-plc", "protocol": "opcua",
             "endpoint": "opc.tcp://127.0.0.1:4840/tansuan/"},
            {"id": "plant-http", "protocol": "http"},
        ],
        "areas": [*areas, utilities],
        "series": [
            {"id": "oil-invoices", "name": "燃料油发票 fuel-oil invoices",
             "kind": "fuel_consumption", "unit": "t", "fuel": "fuel_oil"},
            {"id": "oil-ncv", "name": "燃料油低位发热量 fuel-oil NCV", "kind": "lab_ncv",
             "unit": "GJ/t", "fuel": "fuel_oil"},
            {"id": "steel-processed", "name": "钢材加工量 steel processed", "kind": "production",
             "unit": "t"},
            {"id": "steel-plan", "name": "钢材加工计划 planned steel processing",
             "kind": "production_plan", "unit": "t"},
        ],
        "sources": [
            {"id": "boiler-oil", "name": "锅炉燃油 boiler fuel oil", "method": "combustion",
             "device": "boiler-1", "fuel": "fuel_oil", "activity": [{"series": "oil-invoices"}],
             "parameters": {"ncv": {"series": "oil-ncv"}}, "cross_check": "boiler-cems"},
            {"id": "boiler-cems", "name": "锅炉烟气 CEMS", "method": "cems", "device": "boiler-1",
             "activity": [{"point": "stack-1.co2"}, {"point": "stack-1.flow"}]},
            {"id": "grid-power", "name": "外购电力 purchased electricity", "method": "electricity",
             "scope": 2, "device": "grid-meter", "activity": [{"point": "grid-meter.energy"}]},
        ],
    }  # fmt: skip
    group = ("demo-shipbuilding", "示范船舶集团 Demo Shipbuilding Group")
    company = ("xiamen-shipyard", "厦门示范船厂有限公司 Xiamen Demo Shipyard Co.")
    return _model(group, company, site)


def coal_unit() -> dict[str, Any]:
    """A 600 MW coal-fired unit with CEMS, for the national ETS report."""
    aux = [
        ("id-fan-a", "fan", 3600.0, ["vfd", "load_factor:0.75", "motor_efficiency:0.95"]),
        ("id-fan-b", "fan", 3600.0, ["vfd", "load_factor:0.75", "motor_efficiency:0.95"]),
        ("fd-fan-a", "fan", 1800.0, ["load_factor:0.7", "motor_efficiency:0.95"]),
        ("bfp-a", "pump", 6000.0, ["vfd", "load_factor:0.8", "motor_efficiency:0.96"]),
        ("mill-a", "mill", 800.0, []),
        ("mill-b", "mill", 800.0, []),
        ("mill-c", "mill", 800.0, []),
        ("mill-d", "mill", 800.0, []),
    ]
    devices: list[dict[str, Any]] = [
        {"id": "boiler-1", "name": "1号锅炉 boiler 1", "class": "boiler",
         "tags": ["fuel:bituminous", "fuel_t_h:290", "flue_nm3_per_kg:7.6", "excess_air:1.3"],
         "points": [{"id": "boiler-1.fuel", "quantity": "fuel_flow", "unit": "t/h",
                     "interval_s": 300, "valid_range": [0, 400]}]},
        {"id": "gen-1", "name": "1号发电机 generator 1", "class": "generator",
         "rated_power_kw": 600000.0, "tags": ["boiler:boiler-1", "efficiency:0.41"],
         "points": [
             {"id": "gen-1.power", "quantity": "power", "unit": "MW", "interval_s": 300,
              "valid_range": [0, 700]},
             _energy("gen-1", "MWh", 900)]},
        _stack("stack-1", "boiler-1", "unit-logger"),
        *[{"id": d, "class": c, "rated_power_kw": kw, "tags": t,
           "points": [_power(d, kw)]} for d, c, kw, t in aux],
        {"id": "aux-meter", "name": "厂用电 auxiliary power meter", "class": "meter",
         "tags": ["feeds:unit-1"], "points": [_energy("aux-meter", "MWh")]},
    ]  # fmt: skip
    site = {
        "id": "coal-unit",
        "name": "示范电厂1号机组 Demo power plant unit 1 (600 MW)",
        "timezone": "Asia/Shanghai",
        "grid_region": "east",
        "connections": [
            {"id": "unit-logger", "protocol": "hj212", "mn": "35020000000600", "password": "123456"}
        ],
        "areas": [{"id": "unit-1", "name": "1号机组 unit 1", "kind": "unit", "devices": devices}],
        "series": [
            {"id": "coal-consumption", "name": "入炉煤量 coal fired", "kind": "fuel_consumption",
             "unit": "t", "fuel": "bituminous"},
            {"id": "coal-ncv", "name": "入炉煤低位发热量 NCV", "kind": "lab_ncv", "unit": "GJ/t",
             "fuel": "bituminous"},
            {"id": "coal-carbon", "name": "入炉煤元素碳含量 carbon content", "kind":
             "lab_carbon_content", "unit": "tC/t", "fuel": "bituminous"},
            {"id": "net-generation", "name": "供电量 electricity supplied", "kind": "production",
             "unit": "MWh"},
        ],
        "sources": [
            {"id": "unit-coal", "name": "燃煤 coal combustion", "method": "combustion",
             "device": "boiler-1", "fuel": "bituminous",
             "activity": [{"series": "coal-consumption"}],
             "parameters": {"ncv": {"series": "coal-ncv"},
                            "carbon_content": {"series": "coal-carbon"}}, "monthly": True,
             "cross_check": "unit-cems"},
            {"id": "unit-cems", "name": "烟气 CEMS", "method": "cems", "device": "boiler-1",
             "activity": [{"point": "stack-1.co2"}, {"point": "stack-1.flow"}]},
        ],
    }  # fmt: skip
    return _model(("demo-power", "示范发电集团 Demo Power Group"),
                  ("demo-power-plant", "示范电厂 Demo Power Plant"), site)  # fmt: skip


def cement() -> dict[str, Any]:
    """A 5,000 t/d clinker line: kiln (fuel and calcination CO2), mills, grid power."""
    devices: list[dict[str, Any]] = [
        {"id": "kiln-1", "name": "回转窑 rotary kiln", "class": "kiln",
         "tags": ["fuel:bituminous", "fuel_t_h:28", "flue_nm3_per_kg:11.5", "clinker_t_h:215",
                  "cao:0.65", "mgo:0.02"],
         "points": [
             {"id": "kiln-1.fuel", "quantity": "fuel_flow", "unit": "t/h", "interval_s": 300,
              "valid_range": [0, 40]},
             {"id": "kiln-1.clinker", "quantity": "production_rate", "unit": "t/h",
              "interval_s": 300, "valid_range": [0, 300]}]},
        _stack("kiln-stack", "kiln-1", "kiln-logger"),
        {"id": "raw-mill", "class": "mill", "rated_power_kw": 3200.0,
         "points": [_power("raw-mill", 3200.0), _energy("raw-mill")]},
        {"id": "cement-mill", "class": "mill", "rated_power_kw": 4500.0,
         "points": [_power("cement-mill", 4500.0), _energy("cement-mill")]},
        {"id": "kiln-id-fan", "class": "fan", "rated_power_kw": 2500.0,
         "tags": ["vfd", "load_factor:0.8", "motor_efficiency:0.95"],
         "points": [_power("kiln-id-fan", 2500.0)]},
        {"id": "grid-meter", "name": "关口电表 grid supply meter", "class": "meter",
         "tags": ["feeds:site"], "points": [_energy("grid-meter")]},
    ]  # fmt: skip
    site = {
        "id": "cement",
        "name": "示范水泥熟料线 Demo clinker line",
        "timezone": "Asia/Shanghai",
        "grid_region": "east",
        "connections": [
            {"id": "kiln-logger", "protocol": "hj212", "mn": "35020000005000", "password": "123456"}
        ],
        "areas": [{"id": "line-1", "name": "熟料线 clinker line", "kind": "line",
                   "devices": devices}],
        "series": [
            {"id": "clinker-output", "name": "熟料产量 clinker produced", "kind": "production",
             "unit": "t"},
            {"id": "kiln-coal", "name": "窑用煤 kiln coal", "kind": "fuel_consumption",
             "unit": "t", "fuel": "bituminous"},
            {"id": "coal-ncv", "name": "煤低位发热量 NCV", "kind": "lab_ncv", "unit": "GJ/t",
             "fuel": "bituminous"},
        ],
        "sources": [
            {"id": "clinker-process", "name": "熟料生产过程 calcination", "method": "process",
             "device": "kiln-1", "material": "clinker", "activity": [{"series": "clinker-output"}],
             "parameters": {"cao": {"value": 0.65}, "mgo": {"value": 0.02}}},
            {"id": "kiln-coal", "name": "窑头窑尾燃煤 kiln coal", "method": "combustion",
             "device": "kiln-1", "fuel": "bituminous", "activity": [{"series": "kiln-coal"}],
             "parameters": {"ncv": {"series": "coal-ncv"}}},
            {"id": "kiln-cems", "name": "窑尾烟气 CEMS (fuel + process)", "method": "cems",
             "device": "kiln-1", "activity": [{"point": "kiln-stack.co2"},
                                               {"point": "kiln-stack.flow"}]},
            {"id": "grid-power", "name": "外购电力 purchased electricity", "method": "electricity",
             "scope": 2, "device": "grid-meter", "activity": [{"point": "grid-meter.energy"}]},
        ],
    }  # fmt: skip
    return _model(("demo-cement", "示范建材集团 Demo Building Materials"),
                  ("demo-cement-co", "示范水泥 Demo Cement Co."), site)  # fmt: skip


BUILDERS = {"shipyard": shipyard, "coal-unit": coal_unit, "cement": cement}


def write_all(directory: Path = SITES_DIR) -> list[Path]:
    """Write every demo site model as YAML; return the files."""
    out = []
    for name, build in BUILDERS.items():
        path = directory / f"{name}.yaml"
        text = yaml.safe_dump(build(), allow_unicode=True, sort_keys=False, width=100)
        header = (
            f"# Demo site model `{name}` for the tansuan digital twin (tansuan twin …).\n"
            "# Generated by `python -m tansuan.twin.sitegen`; edit that script, not this file.\n"
        )
        path.write_text(header + text, encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":
    write_all()
