"""The inputs of a result under the ledger: site-model versions, factor-table releases,
filings, and ``tansuan verify --result`` reproducing a result from its ledgered inputs.

SQLite and PostgreSQL, real store, real ledger; every tamper is written straight into
the database (or, for a factor table, into the installed table the loader reads) and
verify must name it.

The plant is the accounting engine tests' plant (tests/accounting/test_engine.py),
January 2024 only:

* ``coal`` — 10 000 t × 20 GJ/t × 0.027 tC/GJ × 0.99 × 44/12
  = 200 000 GJ × 0.027 = 5 400 tC; × 0.99 = 5 346 tC; × 44/12 = 19 602 tCO2
  = 19 602 000 000 g. With the invoice cut to 9 000 t: 180 000 GJ × 0.027 = 4 860 tC;
  × 0.99 = 4 811.4 tC; × 44/12 = 17 641.8 tCO2.
* ``grid`` — a kWh register advancing 100 kWh an hour, read hourly from local
  2023-12-31 23:00 to 2024-02-01 00:00: January's 744 hours × 100 kWh = 74 400 kWh
  = 74.4 MWh × 0.5703 tCO2/MWh (ETS 2023–2025 national factor) = 42.43032 tCO2
  = 42 430 320 g.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from tansuan.accounting import filing
from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.reproduce import REPRODUCED, reproduce, resolve
from tansuan.domain import catalog, tables
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.manual import import_table
from tansuan.ledger.inputs import site_model_hook
from tansuan.ledger.log import Ledger
from tansuan.ledger.sources import LiveSource
from tansuan.ledger.verify import Outcome, verify_source
from tansuan.platform import ledger_batch_hook, ledger_manual_hook, ledger_result_hook
from tansuan.site.model import SiteModel
from tansuan.store import Store, schema
from tansuan.store.readings import batch_rows
from tansuan.store.timeutil import to_us
from tansuan.store.users import Principal
from tests.accounting.test_engine import MODEL

TZ = ZoneInfo("Asia/Shanghai")
ACCOUNTANT = Principal(1, "lin", "Lin", "org", "carbon_accountant", frozenset({"read"}))
COAL_G = 19_602_000_000
GRID_G = 42_430_320


def _verify(store: Store, ledger: Ledger) -> Outcome:
    with store.read() as conn:
        return verify_source(LiveSource(conn, batch_rows, ledger.public_key))


def _codes(outcome: Outcome) -> list[str]:
    return sorted(f.code for f in outcome.findings)


def _january(series: str, unit: str, value: float) -> list[list[object]]:
    return [
        ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"],
        ["plant", series, "2024-01-01", "2024-01-31", value, unit, f"{series}-01"],
    ]


@pytest.fixture
def plant(db_url: str, ledger: Ledger) -> Iterator[Store]:
    """The plant loaded with its site_model leaf; January's coal invoice and lab analyses
    and the grid register's readings, each logged; January accounted and logged."""
    store = Store(db_url)
    store.load_model(SiteModel.model_validate(MODEL), source="plant.yaml",
                     hooks=[site_model_hook(ledger)])  # fmt: skip
    manual = [ledger_manual_hook(ledger)]
    for series, unit, value, kind in (
        ("coal-use", "t", 10_000, "fuel"),
        ("coal-ncv", "GJ/t", 20, "lab"),
        ("coal-cc", "tC/GJ", 0.027, "lab"),
    ):
        assert not import_table(store, _january(series, unit, value), kind=kind,
                                hooks=manual).errors  # fmt: skip
    start = dt.datetime(2023, 12, 31, 23, tzinfo=TZ)
    stamps = [to_us(start + dt.timedelta(hours=h)) for h in range(746)]
    values = [100.0 * h for h in range(746)]
    ingestor = Ingestor(store, batch_hooks=[ledger_batch_hook(ledger)])
    assert ingestor.ingest_columns("plant", ["grid.energy"] * 746, stamps, values).rejected == 0
    model = SiteModel.model_validate(MODEL)
    Accountant(store, model, hooks=[ledger_result_hook(ledger)]).run(
        "plant", parse_period("2024-01")
    )
    yield store
    store.close()


def _leaf_payload(store: Store, ref: str) -> dict[str, Any]:
    t = schema.ledger_leaves
    with store.read() as conn:
        return dict(
            json.loads(conn.execute(select(t.c.payload).where(t.c.ref == ref)).scalar_one())
        )


# ---------------------------------------------------------------- site-model versions


def test_a_model_load_is_a_leaf_and_verify_holds(plant: Store, ledger: Ledger) -> None:
    payload = _leaf_payload(plant, "site_model/v1")
    with plant.read() as conn:
        document = conn.execute(select(schema.model_document.c.document)).scalar_one()
    assert payload["version_id"] == 1 and payload["source"] == "plant.yaml"
    assert payload["document_bytes"] == len(document.encode())
    outcome = _verify(plant, ledger)
    assert outcome.ok, outcome.findings


def test_an_edited_model_document_is_named(plant: Store, ledger: Ledger) -> None:
    with plant.write() as conn:
        conn.execute(text("UPDATE model_document SET document = "
                          "replace(document, '\"raw_coal\"', '\"natural_gas\"')"))  # fmt: skip
    outcome = _verify(plant, ledger)
    assert _codes(outcome) == ["site_model_changed"]
    detail = outcome.findings[0].detail
    assert "site-model version 1 (plant.yaml)" in detail and "document SHA-256" in detail
    assert str(outcome.findings[0]).startswith("站点模型版本被修改")


def test_a_deleted_model_version_is_named(plant: Store, ledger: Ledger) -> None:
    with plant.write() as conn:
        conn.execute(text("DELETE FROM model_document WHERE version_id = 1"))
        conn.execute(text("DELETE FROM model_version WHERE id = 1"))
    outcome = _verify(plant, ledger)
    assert _codes(outcome) == ["site_model_removed"]
    assert "site-model version 1 (plant.yaml) was deleted" in outcome.findings[0].detail


def test_an_inserted_model_version_is_named(plant: Store, ledger: Ledger) -> None:
    with plant.write() as conn:
        conn.execute(
            schema.model_version.insert().values(
                id=2, loaded_at_us=0, source="forged.yaml", digest="0" * 64, new=0, changed=0,
                retired=0,
            )
        )  # fmt: skip
    outcome = _verify(plant, ledger)
    assert _codes(outcome) == ["site_model_added"]
    assert "site-model version 2 (forged.yaml) has no leaf" in outcome.findings[0].detail


def test_versions_loaded_before_logging_are_noted(db_url: str, ledger: Ledger) -> None:
    store = Store(db_url)
    try:
        store.load_model(SiteModel.model_validate(MODEL), source="old")  # no hook: old release
        changed = copy.deepcopy(MODEL)
        changed["organisation"]["companies"][0]["sites"][0]["grid_region"] = "north"
        store.load_model(SiteModel.model_validate(changed), source="new",
                         hooks=[site_model_hook(ledger)])  # fmt: skip
        outcome = _verify(store, ledger)
    finally:
        store.close()
    assert outcome.ok, outcome.findings
    assert any("1 site-model versions not bound (written before" in n for n in outcome.notes)


# ---------------------------------------------------------------- factor tables


@pytest.fixture
def edited_grid(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The installed grid.csv with the ETS 2023–2025 national factor 0.5703 → 0.6 (a
    fault only a changed installation produces: the loader's file read is patched)."""
    real = tables._data_text

    def data_text(name: str) -> str:
        body = real(name)
        if name == "grid.csv":
            row = "grid.ets.national.2023,grid_electricity,electricity,"
            body = body.replace(f"{row}0.5703,", f"{row}0.6,")
        return body

    monkeypatch.setattr(tables, "_data_text", data_text)
    tables.rows.cache_clear()
    catalog.shipped_catalog.cache_clear()
    yield
    tables.rows.cache_clear()
    catalog.shipped_catalog.cache_clear()


def test_each_table_used_is_logged_once(plant: Store, ledger: Ledger) -> None:
    t = schema.ledger_leaves
    with plant.read() as conn:
        refs = list(conn.execute(select(t.c.ref).where(t.c.kind == "factor_table")).scalars())
    # two results (coal, grid) were saved; each of the 11 tables is logged once
    assert len(refs) == 11 and len(set(refs)) == 11
    grid = [r for r in refs if r.startswith("factor_table/grid/")]
    payload = _leaf_payload(plant, grid[0])
    assert "grid.ets.national.2023" in payload["csv"] and payload["edition"]


def test_a_changed_factor_row_is_named(plant: Store, ledger: Ledger, edited_grid: None) -> None:
    outcome = _verify(plant, ledger)
    assert _codes(outcome) == ["factor_table_changed"]
    detail = outcome.findings[0].detail
    assert "grid row grid.ets.national.2023 column value: '0.5703' → '0.6'" in detail
    assert str(outcome.findings[0]).startswith("排放因子表被修改")


# ---------------------------------------------------------------- filings


@pytest.fixture
def filed(plant: Store, ledger: Ledger) -> Store:
    with plant.write() as conn:
        filing.file(conn, ledger, "plant", ["2024-01"], ACCOUNTANT, "annual filing",
                    at=dt.datetime(2024, 2, 5, tzinfo=dt.UTC))  # fmt: skip
    assert _verify(plant, ledger).ok
    return plant


def test_a_changed_lock_is_named(filed: Store, ledger: Ledger) -> None:
    with filed.write() as conn:
        conn.execute(text("UPDATE period_locks SET locked_by = 'mallory'"))
    outcome = _verify(filed, ledger)
    assert _codes(outcome) == ["filing_lock_changed"]
    assert "filing of plant 2024-01: locked_by 'lin' → 'mallory'" in outcome.findings[0].detail


def test_a_deleted_lock_is_named(filed: Store, ledger: Ledger) -> None:
    with filed.write() as conn:
        conn.execute(text("DELETE FROM period_locks"))
    outcome = _verify(filed, ledger)
    assert _codes(outcome) == ["filing_lock_removed"]
    assert "filing of plant 2024-01 (filed by 'lin') was unlocked" in outcome.findings[0].detail


# ---------------------------------------------------------------- swapped input leaves


def test_two_swapped_input_leaves_are_named(plant: Store, ledger: Ledger) -> None:
    """The site_model leaf (0) and the first manual entry's leaf (1) exchange places:
    each leaf still hashes to itself, only the signed tree can tell."""
    ledger.issue_sth_now(plant.engine)
    t = schema.ledger_leaves
    with plant.write() as conn:
        rows = {r.leaf_index: r for r in conn.execute(select(t).where(t.c.leaf_index.in_([0, 1])))}
        for index, other in ((0, 1), (1, 0)):
            values = {c: rows[other]._mapping[c] for c in ("kind", "ref", "payload", "leaf_hash")}
            conn.execute(t.update().where(t.c.leaf_index == index).values(**values))
    outcome = _verify(plant, ledger)
    reordered = [f.detail for f in outcome.findings if f.code == "leaf_reordered"]
    assert reordered and "leaves 0 and 1 swapped places" in reordered[0]
    assert "site_model site_model/v1" in reordered[0]


# ---------------------------------------------------------------- verify --result


def _result_id(store: Store, source: str) -> int:
    with store.read() as conn:
        return resolve(conn, f"plant/{source}/2024-01")


def test_a_result_is_reproduced_from_its_ledgered_inputs(plant: Store, ledger: Ledger) -> None:
    """coal 19 602 000 000 g and grid 42 430 320 g CO2e (module docstring)."""
    payload = _leaf_payload(plant, "plant/coal/2024-01/v1")
    assert payload["lines"] == [["CO2", "1", COAL_G, COAL_G]]
    inputs = payload["inputs"]
    assert inputs["site_model"]["version_id"] == 1
    assert [ref for ref, _ in inputs["manual_entries"]] == [
        "manual/plant/coal-cc/20240101-20240131/v1",
        "manual/plant/coal-ncv/20240101-20240131/v1",
        "manual/plant/coal-use/20240101-20240131/v1",
    ]
    assert inputs["filed"] is False and set(inputs["factor_tables"]) >= {"fuels", "gwp"}
    grid = _leaf_payload(plant, "plant/grid/2024-01/v1")
    assert grid["lines"] == [["CO2", "2-location", GRID_G, GRID_G]]
    # 744 readings inside local January (the one at 2023-12-31 23:00 is December's)
    assert grid["inputs"]["readings"]["points"] == ["grid.energy"]
    assert grid["inputs"]["readings"]["count"] == 744
    with plant.read() as conn:
        for source in ("coal", "grid"):
            found = reproduce(plant, conn, _result_id(plant, source), ledger.public_key)
            assert found.reproduced, found.differences
            assert found.summary().endswith(REPRODUCED)
    assert _verify(plant, ledger).ok


def test_a_changed_manual_entry_is_named_by_verify_result(plant: Store, ledger: Ledger) -> None:
    """The January invoice 10 000 t → 9 000 t: 17 641.8 tCO2 recomputed (docstring)."""
    with plant.write() as conn:
        conn.execute(
            text("UPDATE series_entry SET value = 9000 WHERE document_ref = 'coal-use-01'")
        )
    with plant.read() as conn:
        found = reproduce(plant, conn, _result_id(plant, "coal"), ledger.public_key)
    assert not found.reproduced
    text_ = "\n".join(found.differences)
    assert (
        "manual entry manual/plant/coal-use/20240101-20240131/v1: value 10000.0 → 9000.0" in text_
    )
    assert f"line CO2/1: logged mass_g {COAL_G}, co2e_g {COAL_G} → recomputed mass_g " \
           f"17641800000, co2e_g 17641800000" in text_  # fmt: skip


def test_a_changed_reading_is_named_by_verify_result(plant: Store, ledger: Ledger) -> None:
    """The register's reading at local 2024-01-10 00:00 (2024-01-09T16:00Z), 21 700 kWh
    (217 hours after the first reading), is overwritten with 30 000."""
    ts = to_us(dt.datetime(2024, 1, 10, tzinfo=TZ))
    with plant.write() as conn:
        for table in ("reading", "reading_staging"):  # wherever the writer has it now
            conn.execute(text(f"UPDATE {table} SET value = 30000 WHERE ts_us = {ts}"))
    with plant.read() as conn:
        found = reproduce(plant, conn, _result_id(plant, "grid"), ledger.public_key)
    assert not found.reproduced
    text_ = "\n".join(found.differences)
    assert "readings of grid.energy in the month" in text_
    assert ("point=grid.energy ts=2024-01-09T16:00:00Z version=1: value changed "
            "21700.0 → 30000.0") in text_  # fmt: skip


def test_a_changed_factor_row_is_named_by_verify_result(
    plant: Store, ledger: Ledger, edited_grid: None
) -> None:
    """74.4 MWh × 0.6 = 44.64 tCO2 = 44 640 000 g with the edited factor."""
    with plant.read() as conn:
        found = reproduce(plant, conn, _result_id(plant, "grid"), ledger.public_key)
    text_ = "\n".join(found.differences)
    assert "factor table grid row grid.ets.national.2023 column value: '0.5703' → '0.6'" in text_
    assert "→ recomputed mass_g 44640000, co2e_g 44640000" in text_


def test_verify_result_on_the_command_line(
    plant: Store, ledger: Ledger, db_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from tansuan.cli import app
    from tansuan.ledger.signing import PUBLIC_KEY_FILE, key_dir, public_key_pem
    from tansuan.settings import get_settings

    data_dir = tmp_path / "cli"
    key_dir(data_dir).mkdir(parents=True)
    (key_dir(data_dir) / PUBLIC_KEY_FILE).write_bytes(public_key_pem(ledger.public_key))
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(app, ["verify", "--result", "plant/coal/2024-01"])
        assert ok.exit_code == 0, ok.output
        assert "已复现" in ok.output and "reproduced" in ok.output
        with plant.write() as conn:
            conn.execute(text("UPDATE series_entry SET value = 9000 "
                              "WHERE document_ref = 'coal-use-01'"))  # fmt: skip
        bad = CliRunner().invoke(app, ["verify", "--result", str(_result_id(plant, "coal"))])
        assert bad.exit_code == 1
        assert "coal-use" in bad.output and "未能复现" in bad.output
        unknown = CliRunner().invoke(app, ["verify", "--result", "plant/coal"])
        assert unknown.exit_code == 2
    finally:
        get_settings.cache_clear()
