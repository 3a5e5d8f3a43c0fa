"""An entity's compliance file: allocation, trades, banking, emissions, rules.

The accounts live in the store (:mod:`tansuan.market.accounts`); this format is how one
is imported (``tansuan position import FILE.yaml``, the upload on the position page) and
how a stored account is checked and turned into holdings. Example::

    entity: plant-1
    year: 2022
    price: 80                 # [money/t] to value a shortfall
    gas: false
    emissions: {mean: 1000000, sd: 50000}      # [tCO2] used when there is no forecast
    verified: 1010000         # [tCO2] verified emissions (once known; used before any forecast)
    allocation: 900000        # entered free allocation [t] …
    units:                    # … or computed by the benchmark method (added to `allocation`)
      - {id: u1, category: coal_gt300, supply_mwh: 5000000, heat_gj: 2000000,
         cooling: air, heat_ratio: 0.1, load_factor: 0.9}
    banked: 10000
    trades:
      - {date: 2022-05-01, side: buy, instrument: CEA, quantity: 40000, price: 58}
      - {date: 2022-06-01, side: buy, instrument: CCER, quantity: 60000, price: 40}
    rules: {ccer_cap: 0.05, shortfall_cap: 0.2, gas_exemption: true}   # optional override
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tansuan.errors import InputError, Issue, ValidationFailed
from tansuan.market.allocation import Allocation, Unit, allocate
from tansuan.market.position import Holdings, Rules


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TradeIn(_Strict):
    date: dt.date
    side: Literal["buy", "sell"]
    instrument: Literal["CEA", "CCER"]
    quantity: float = Field(gt=0)
    price: float = Field(ge=0)


class UnitIn(_Strict):
    id: str
    category: str
    supply_mwh: float = Field(ge=0)
    heat_gj: float = Field(default=0.0, ge=0)
    cooling: Literal["water", "air"] = "water"
    heat_ratio: float = Field(default=0.0, ge=0, lt=1)
    load_factor: float | None = Field(default=None, gt=0, le=1)


class EmissionsIn(_Strict):
    mean: float = Field(ge=0)
    sd: float = Field(default=0.0, ge=0)


class RulesIn(_Strict):
    ccer_cap: float = Field(ge=0, le=1)
    shortfall_cap: float | None = Field(default=None, ge=0, le=1)
    gas_exemption: bool = False


class ComplianceFile(_Strict):
    entity: str
    year: int
    price: float = Field(ge=0)
    gas: bool = False
    emissions: EmissionsIn | None = None
    verified: float | None = Field(default=None, ge=0)
    allocation: float = Field(default=0.0, ge=0)
    units: list[UnitIn] = []
    banked: float = Field(default=0.0, ge=0)
    trades: list[TradeIn] = []
    rules: RulesIn | None = None


@dataclass(frozen=True)
class Account:
    """The parsed compliance file with its derived holdings and rules."""

    file: ComplianceFile
    allocations: tuple[Allocation, ...]
    holdings: Holdings
    rules: Rules
    cash: float

    @property
    def free_allocation(self) -> float:
        return self.holdings.free_allocation


class _Loader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: dates stay text and the schema checks them
    (PyYAML's own date constructor raises a bare ValueError on e.g. 2022-13-01)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, *, where: str) -> Any:
    """Parse the text of a compliance file.

    Raises
    ------
    InputError
        Not YAML.
    """
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError(f"不是 YAML 文件 / {where} is not YAML: {exc}", field="file") from None


def account_from(raw: Any, *, where: str = "holdings") -> Account:
    """Build an :class:`Account` from parsed YAML (see module docstring)."""
    try:
        doc = ComplianceFile.model_validate(raw)
    except ValidationError as exc:
        issues = [
            Issue(str(e["type"]), ".".join(str(p) for p in e["loc"]), str(e["msg"]))
            for e in exc.errors()
        ]
        raise ValidationFailed(issues, what=f"配额账户文件 / compliance file {where}") from None
    allocations = tuple(
        allocate(
            Unit(u.id, u.category, u.supply_mwh, u.heat_gj, u.cooling, u.load_factor),
            doc.year,
            heat_ratio=u.heat_ratio,
        )
        for u in doc.units
    )
    free = doc.allocation + sum(a.total_t for a in allocations)
    bought = {
        k: sum(t.quantity for t in doc.trades if t.side == "buy" and t.instrument == k)
        for k in ("CEA", "CCER")
    }
    sold = {
        k: sum(t.quantity for t in doc.trades if t.side == "sell" and t.instrument == k)
        for k in ("CEA", "CCER")
    }
    if sold["CCER"] > bought["CCER"]:
        raise InputError("more CCER sold than bought", field="trades")
    if sold["CEA"] > free + bought["CEA"] + doc.banked:
        raise InputError("more CEA sold than held", field="trades")
    cash = sum((-1 if t.side == "buy" else 1) * t.quantity * t.price for t in doc.trades)
    holdings = Holdings(
        free_allocation=free,
        purchased=bought["CEA"],
        sold=sold["CEA"],
        banked=doc.banked,
        ccer=bought["CCER"] - sold["CCER"],
    )
    if doc.rules is not None:
        rules = Rules(doc.rules.ccer_cap, doc.rules.shortfall_cap, doc.rules.gas_exemption, where)
    else:
        rules = Rules.for_year(doc.year)
    return Account(doc, allocations, holdings, rules, cash)
