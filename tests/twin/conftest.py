"""A small site for twin tests: an oil boiler with its CEMS, two fans and the grid meter."""

from __future__ import annotations

from typing import Any

import pytest

from tansuan.site.model import Site, SiteModel
from tansuan.twin.sitegen import _energy, _model, _power, _stack


def small_document() -> dict[str, Any]:
    devices = [
        {"id": "boiler-1", "class": "boiler",
         "tags": ["fuel:fuel_oil", "fuel_t_h:1.0", "flue_nm3_per_kg:13.5"],
         "points": [{"id": "boiler-1.fuel", "quantity": "fuel_flow", "unit": "t/h",
                     "interval_s": 300}]},
        _stack("stack-1", "boiler-1", "logger"),
        {"id": "fan-1", "class": "fan", "rated_power_kw": 30.0, "tags": ["vfd"],
         "points": [_power("fan-1", 30.0, 300)]},
        {"id": "fan-2", "class": "fan", "rated_power_kw": 15.0,
         "points": [_power("fan-2", 15.0, 300)]},
        {"id": "grid-meter", "class": "meter", "tags": ["feeds:site"],
         "points": [{**_energy("grid-meter", interval_s=300), "rollover": 1e9}]},
    ]  # fmt: skip
    site = {
        "id": "mini",
        "timezone": "Asia/Shanghai",
        "grid_region": "east",
        "connections": [{"id": "logger", "protocol": "hj212", "mn": "35020000000099",
                         "password": "123456"}],
        "areas": [{"id": "plant", "devices": devices}],
        "series": [
            {"id": "oil", "kind": "fuel_consumption", "unit": "t", "fuel": "fuel_oil"},
            {"id": "oil-ncv", "kind": "lab_ncv", "unit": "GJ/t", "fuel": "fuel_oil"},
        ],
        "sources": [
            {"id": "boiler-oil", "method": "combustion", "device": "boiler-1", "fuel": "fuel_oil",
             "activity": [{"series": "oil"}], "parameters": {"ncv": {"series": "oil-ncv"}}},
            {"id": "boiler-cems", "method": "cems", "device": "boiler-1",
             "activity": [{"point": "stack-1.co2"}, {"point": "stack-1.flow"}]},
            {"id": "grid-power", "method": "electricity", "scope": 2, "device": "grid-meter",
             "activity": [{"point": "grid-meter.energy"}]},
        ],
    }  # fmt: skip
    return _model(("mini-group", "Mini"), ("mini-co", "Mini Co."), site)


@pytest.fixture
def mini_model() -> SiteModel:
    return SiteModel.model_validate(small_document())


@pytest.fixture
def mini_site(mini_model: SiteModel) -> Site:
    return mini_model.sites()[0]
