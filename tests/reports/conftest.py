"""A planted plant with its accounting results, shared by the report tests.

The plant is the accounting tests' plant (tests/accounting/test_engine.py: a coal boiler
computed month by month with March on the guideline default carbon content, and a grid
meter with a reset in June and a 72-hour gap in August), plus what reports need: names,
an address, a production series of 50 000 t a month and an annual energy budget of
100 000 tce.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.manual import import_table
from tansuan.ledger.log import Ledger
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tests.accounting.test_engine import MODEL, _grid_readings, _manual_rows

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "reports"

#: production a month [t], and the annual energy budget [tce]
OUTPUT_T = 50_000.0
BUDGET_TCE = 100_000.0


def report_model() -> dict[str, Any]:
    model = copy.deepcopy(MODEL)
    model["organisation"]["name"] = "示例能源集团"
    company = model["organisation"]["companies"][0]
    company["name"] = "示例热电有限公司"
    site = company["sites"][0]
    site["name"] = "一号厂区"
    site["location"] = {"address": "上海市浦东新区示例路 1 号"}
    site["energy_budget_tce"] = BUDGET_TCE
    site["series"].append({"id": "output", "kind": "production", "unit": "t"})
    return model


def plant_store(url: str) -> Store:
    """Load the model and data into the store at ``url`` and run the 2024 accounting."""
    store = Store(url)
    model = SiteModel.model_validate(report_model())
    store.load_model(model)
    every = list(range(1, 13))
    assert not import_table(store, _manual_rows("coal-use", "t", 10_000, every), kind="fuel").errors
    assert not import_table(store, _manual_rows("coal-ncv", "GJ/t", 20, every), kind="lab").errors
    no_march = [m for m in every if m != 3]
    rows = _manual_rows("coal-cc", "tC/GJ", 0.027, no_march)
    assert not import_table(store, rows, kind="lab").errors
    rows = _manual_rows("output", "t", OUTPUT_T, every)
    assert not import_table(store, rows, kind="production").errors
    stamps, values = _grid_readings()
    result = Ingestor(store).ingest_columns("plant", ["grid.energy"] * len(stamps), stamps, values)
    assert result.rejected == 0
    report = Accountant(store, model).run("plant", parse_period("2024"))
    assert report.errors == []
    return store


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The planted plant on SQLite (built once per module: ingest + a year of accounting)."""
    path = tmp_path_factory.mktemp("reports") / "plant.db"
    store = plant_store(f"sqlite:///{path}")
    yield store
    store.close()


@pytest.fixture(scope="module")
def model() -> SiteModel:
    return SiteModel.model_validate(report_model())


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return Ledger(Ed25519PrivateKey.generate())


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where rendered pages go for a person to look at (gitignored)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
