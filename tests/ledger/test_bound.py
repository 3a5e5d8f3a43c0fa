"""Manual entries and result sets bound to their leaves: tamper with the stored rows
directly in the database (SQLite and PostgreSQL, real store, real ledger) and verify
names each change; the emissions API refuses a result set that does not match its leaf.

The numbers are the ones written: July's coal invoice of 5 000 t cut by 1 000 t gives
4 000 t; a result line of 1 000 000 000 g CO2e (1 000 t) plus 1 000 t gives
2 000 000 000 g.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from tansuan.accounting import results
from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.results import ResultLine, ResultSet
from tansuan.errors import VerificationFailed
from tansuan.ingest import manual
from tansuan.ledger.bound import check_result_sets
from tansuan.ledger.log import Ledger
from tansuan.ledger.signing import key_dir, load_or_create_key
from tansuan.ledger.sources import LiveSource
from tansuan.ledger.verify import Outcome, verify_source
from tansuan.platform import ledger_manual_hook, ledger_result_hook
from tansuan.store import Store, schema
from tansuan.store.readings import batch_rows
from tansuan.views.emissions import require_bound
from tests.web.conftest import Deployment
from tests.web.conftest import deployment as deployment  # the web tests' fixture

HEADER = ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"]
FILE = b"site,series,period_start,period_end,value,unit,document_ref\n..."
FILE_SHA = hashlib.sha256(FILE).hexdigest()


def _verify(store: Store, ledger: Ledger) -> Outcome:
    with store.read() as conn:
        return verify_source(LiveSource(conn, batch_rows, ledger.public_key))


def _codes(outcome: Outcome) -> list[str]:
    return sorted(f.code for f in outcome.findings)


@pytest.fixture
def coal(store: Store, ledger: Ledger) -> Store:
    """July's coal invoice (5 000 t) and June's (4 200 t), then July corrected to 5 000 t
    from 4 900 t: three entry versions, three leaves."""
    rows = [
        HEADER,
        ["site", "coal", "2026-07", "", "4900", "t", "INV-07"],
        ["site", "coal", "2026-06", "", "4200", "t", "INV-06"],
    ]
    hook = ledger_manual_hook(ledger)
    first = manual.import_table(store, rows, kind="fuel", hooks=[hook], file_sha256=FILE_SHA)
    assert (first.new, first.errors) == (2, [])
    rows[1][4] = "5000"
    again = manual.import_table(store, rows, kind="fuel", hooks=[hook])
    assert (again.versioned, again.duplicates) == (1, 1)
    return store


def test_every_entry_version_gets_a_leaf_with_the_file_digest(coal: Store, ledger: Ledger) -> None:
    with coal.read() as conn:
        leaves = conn.execute(
            select(schema.ledger_leaves.c.ref, schema.ledger_leaves.c.payload)
            .where(schema.ledger_leaves.c.kind == "manual_entry")
            .order_by(schema.ledger_leaves.c.leaf_index)
        ).all()
    payloads = [json.loads(p) for _, p in leaves]
    assert [(p["series"], p["period_start"], p["value"], p["version"]) for p in payloads] == [
        ("coal", 20260601, 4200.0, 1),
        ("coal", 20260701, 4900.0, 1),
        ("coal", 20260701, 5000.0, 2),
    ]
    assert [p["file_sha256"] for p in payloads] == [FILE_SHA, FILE_SHA, None]
    assert [p["supersedes"] for p in payloads] == [None, None, 1]
    assert leaves[2][0] == "manual/site/coal/20260701-20260731/v2"
    outcome = _verify(coal, ledger)
    assert outcome.ok, outcome.findings


def test_a_changed_manual_entry_is_named(coal: Store, ledger: Ledger) -> None:
    """5 000 t − 1 000 t = 4 000 t, written straight into the table."""
    with coal.write() as conn:
        conn.execute(
            text(
                "UPDATE series_entry SET value = value - 1000 "
                "WHERE document_ref = 'INV-07' AND version = 2"
            )
        )
    outcome = _verify(coal, ledger)
    assert _codes(outcome) == ["manual_entry_changed"]
    detail = outcome.findings[0].detail
    assert "site/coal period 20260701–20260731" in detail and "v2" in detail
    assert "value 5000.0 → 4000.0" in detail
    assert str(outcome.findings[0]).startswith("手工数据被修改")


def test_a_deleted_manual_entry_is_named(coal: Store, ledger: Ledger) -> None:
    with coal.write() as conn:
        conn.execute(text("DELETE FROM series_entry WHERE document_ref = 'INV-06'"))
    outcome = _verify(coal, ledger)
    assert _codes(outcome) == ["manual_entry_removed"]
    assert "site/coal period 20260601–20260630" in outcome.findings[0].detail
    assert "was 4200.0" in outcome.findings[0].detail


def test_an_inserted_manual_entry_is_named(coal: Store, ledger: Ledger) -> None:
    with coal.read() as conn:
        row = conn.execute(
            select(schema.series_entry).where(schema.series_entry.c.document_ref == "INV-06")
        ).one()
    fake = {**row._mapping, "document_ref": "INV-06b", "value": 900.0}
    with coal.write() as conn:
        conn.execute(schema.series_entry.insert().values(**fake))
    outcome = _verify(coal, ledger)
    assert _codes(outcome) == ["manual_entry_added"]
    assert "document 'INV-06b'" in outcome.findings[0].detail
    assert "value 900.0" in outcome.findings[0].detail


def test_a_current_flag_moved_to_an_old_version_is_named(coal: Store, ledger: Ledger) -> None:
    with coal.write() as conn:
        conn.execute(
            text(
                "UPDATE series_entry SET \"current\" = (version = 1) WHERE document_ref = 'INV-07'"
            )
        )
    outcome = _verify(coal, ledger)
    assert _codes(outcome) == ["manual_entry_current"]
    assert "current version(s) [1], expected only v2" in outcome.findings[0].detail


def test_entries_written_before_logging_are_noted_not_failed(store: Store, ledger: Ledger) -> None:
    rows = [HEADER, ["site", "coal", "2026-05", "", "3000", "t", "INV-05"]]
    manual.import_table(store, rows, kind="fuel")  # no ledger hook: an old deployment
    rows[1][2:] = ["2026-08", "", "3100", "t", "INV-08"]
    manual.import_table(store, rows, kind="fuel", hooks=[ledger_manual_hook(ledger)])
    outcome = _verify(store, ledger)
    assert outcome.ok, outcome.findings
    assert any("1 manual entries not bound (written before" in n for n in outcome.notes)


# ---------------------------------------------------------------- results


def _result(co2e_g: int) -> ResultSet:
    return ResultSet(
        site_id="site",
        source_id="boiler",
        period="2026-07",
        method="fuel_combustion",
        lines=(ResultLine("CO2", "scope1", co2e_g, co2e_g),),
        inputs={"coal_t": 5000.0},
        trace={"formula": "AD × EF"},
        grade="A",
        coverage=1.0,
        substituted_share=0.0,
    )


@pytest.fixture
def saved(store: Store, ledger: Ledger) -> int:
    """One saved version of 1 000 t CO2 (10^9 g), logged by the platform's hook."""
    with store.write() as conn:
        version = results.save(conn, _result(1_000_000_000), hooks=[ledger_result_hook(ledger)])
    return version.set_id


def test_a_result_leaf_binds_lines_and_trace(store: Store, ledger: Ledger, saved: int) -> None:
    with store.read() as conn:
        payload = json.loads(
            conn.execute(
                select(schema.ledger_leaves.c.payload).where(
                    schema.ledger_leaves.c.ref == "site/boiler/2026-07/v1"
                )
            ).scalar_one()
        )
        trace = conn.execute(
            select(schema.result_sets.c.trace).where(schema.result_sets.c.id == saved)
        ).scalar_one()
        assert check_result_sets(conn, [saved]) == {}
    assert payload["lines"] == [["CO2", "scope1", 1_000_000_000, 1_000_000_000]]
    assert payload["trace_sha256"] == hashlib.sha256(trace).hexdigest()
    assert _verify(store, ledger).ok


def test_a_changed_result_line_is_named(store: Store, ledger: Ledger, saved: int) -> None:
    """1 000 t + 1 000 t: co2e_g 1 000 000 000 → 2 000 000 000."""
    with store.write() as conn:
        conn.execute(text("UPDATE result_lines SET co2e_g = co2e_g + 1000000000"))
    outcome = _verify(store, ledger)
    assert _codes(outcome) == ["result_line_changed"]
    detail = outcome.findings[0].detail
    assert "result site/boiler 2026-07 v1" in detail and "line CO2/scope1" in detail
    assert "co2e_g 1000000000 → 2000000000" in detail
    with store.read() as conn, pytest.raises(VerificationFailed, match="site/boiler 2026-07"):
        require_bound(conn, {saved})


def test_a_flipped_trace_byte_is_named(store: Store, ledger: Ledger, saved: int) -> None:
    rs = schema.result_sets
    with store.write() as conn:
        trace = bytearray(conn.execute(select(rs.c.trace).where(rs.c.id == saved)).scalar_one())
        trace[5] ^= 0x01
        conn.execute(rs.update().where(rs.c.id == saved).values(trace=bytes(trace)))
    outcome = _verify(store, ledger)
    assert _codes(outcome) == ["result_trace_changed"]
    assert "result site/boiler 2026-07 v1" in outcome.findings[0].detail
    with store.read() as conn:
        assert "trace SHA-256" in check_result_sets(conn, [saved])[saved]


def test_a_deleted_result_set_is_named(store: Store, ledger: Ledger, saved: int) -> None:
    with store.write() as conn:
        conn.execute(text(f"DELETE FROM result_lines WHERE set_id = {saved}"))
        conn.execute(text(f"DELETE FROM result_sets WHERE id = {saved}"))
    outcome = _verify(store, ledger)
    assert _codes(outcome) == ["result_removed"]
    assert f"result site/boiler 2026-07 v1 (set {saved}) was deleted" in str(outcome.findings[0])


def test_a_forged_current_version_is_named(store: Store, ledger: Ledger, saved: int) -> None:
    """v1 marked superseded and a v2 of 500 t inserted as current, without a leaf."""
    rs = schema.result_sets
    with store.write() as conn:
        row = dict(conn.execute(select(rs).where(rs.c.id == saved)).one()._mapping)
        conn.execute(rs.update().where(rs.c.id == saved).values(status="superseded"))
        row.pop("id")
        forged = conn.execute(
            rs.insert().values(**{**row, "version": 2}).returning(rs.c.id)
        ).scalar_one()
        conn.execute(
            schema.result_lines.insert().values(
                set_id=forged, gas="CO2", scope="scope1", mass_g=500_000_000, co2e_g=500_000_000
            )
        )
    outcome = _verify(store, ledger)
    assert _codes(outcome) == ["result_current_forged"]
    assert "result site/boiler 2026-07 v2" in outcome.findings[0].detail
    assert "伪造的当前版本" in str(outcome.findings[0])
    with store.read() as conn:
        assert "forged current version" in check_result_sets(conn, [forged])[forged]


# ---------------------------------------------------------------- the API


@pytest.fixture
def ledgered(deployment: Deployment, tmp_path: Path) -> Iterator[tuple[Deployment, int]]:
    """The demo deployment with its grid-power month recomputed under the ledger: the
    unledgered demo results are removed first (a deployment logged from the start)."""
    from tansuan.site.validate import load
    from tests.web.demo import ROOT

    store = deployment.store
    with store.write() as conn:
        conn.execute(text("DELETE FROM result_lines"))
        conn.execute(text("DELETE FROM result_sets"))
    ledger = Ledger(load_or_create_key(key_dir(tmp_path / "bound-key")))
    model = load(ROOT / "examples" / "site.yaml")
    month = deployment.built["month"]
    report = Accountant(store, model, hooks=[ledger_result_hook(ledger)]).run(
        "demo-site", parse_period(month), sources=["grid-power"]
    )
    (saved,) = report.saved
    yield deployment, saved.set_id


def _emissions(deployment: Deployment) -> Any:
    month = deployment.built["month"]
    return deployment.client("alice").get(
        "/api/v1/emissions", params={"node": "demo-site", "period": month}
    )


def test_the_api_serves_a_bound_result(ledgered: tuple[Deployment, int]) -> None:
    deployment, _ = ledgered
    response = _emissions(deployment)
    assert response.status_code == 200, response.text
    assert {r["source"] for r in response.json()["results"]} == {"grid-power"}


@pytest.mark.parametrize("tamper", ["line", "trace", "forged", "deleted"])
def test_the_api_refuses_a_tampered_result(ledgered: tuple[Deployment, int], tamper: str) -> None:
    deployment, set_id = ledgered
    month = deployment.built["month"]
    rs = schema.result_sets
    with deployment.store.write() as conn:
        if tamper == "line":
            conn.execute(text("UPDATE result_lines SET co2e_g = co2e_g + 1000000000"))
        elif tamper == "trace":
            trace = bytearray(
                conn.execute(select(rs.c.trace).where(rs.c.id == set_id)).scalar_one()
            )
            trace[3] ^= 0x20
            conn.execute(rs.update().where(rs.c.id == set_id).values(trace=bytes(trace)))
        elif tamper == "deleted":
            conn.execute(text(f"DELETE FROM result_lines WHERE set_id = {set_id}"))
            conn.execute(text(f"DELETE FROM result_sets WHERE id = {set_id}"))
        else:
            row = dict(conn.execute(select(rs).where(rs.c.id == set_id)).one()._mapping)
            conn.execute(rs.update().where(rs.c.id == set_id).values(status="superseded"))
            row.pop("id")
            forged = conn.execute(
                rs.insert()
                .values(
                    **{
                        **row,
                        "version": 2,
                        "computed_at": row["computed_at"] + dt.timedelta(hours=1),
                    }
                )
                .returning(rs.c.id)
            ).scalar_one()
            conn.execute(
                schema.result_lines.insert().values(
                    set_id=forged, gas="CO2", scope="scope2", mass_g=1, co2e_g=1
                )
            )
    response = _emissions(deployment)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert f"demo-site/grid-power {month}" in problem["detail"]
    assert "not served" in problem["detail"]
    if tamper == "deleted":
        assert f"(set {set_id}) was deleted" in problem["detail"]
    if tamper == "trace":
        trace_response = deployment.client("alice").get(f"/api/v1/results/{set_id}/trace")
        assert trace_response.status_code == 409


def test_an_http_upload_logs_each_entry_with_the_file_digest(
    store: Store, ledger: Ledger, tmp_path: Path
) -> None:
    """``POST /api/v1/manual-data``: the leaf carries the SHA-256 of the uploaded bytes."""
    from fastapi.testclient import TestClient

    from tansuan.settings import Settings
    from tansuan.web.app import create_app

    body = (
        b"site,series,period_start,period_end,value,unit,document_ref,supplier,note\n"
        b"site,coal,2026-07,,5000,t,INV-07,Coal Co,\n"
    )
    settings = Settings(data_dir=tmp_path / "web", database_url=store.url, ingest_token="s3cret")
    app = create_app(settings, store=store, ledger=ledger)
    with TestClient(app, headers={"Authorization": "Bearer s3cret"}) as client:
        got = client.post(
            "/api/v1/manual-data", files={"file": ("coal.csv", body, "text/csv")}
        ).json()
    assert (got["kind"], got["new"]) == ("fuel", 1)
    with store.read() as conn:
        (payload,) = conn.execute(
            select(schema.ledger_leaves.c.payload).where(
                schema.ledger_leaves.c.kind == "manual_entry"
            )
        ).scalars()
    logged = json.loads(payload)
    assert (logged["value"], logged["attrs"]) == (5000.0, '{"supplier":"Coal Co"}')
    assert logged["file_sha256"] == hashlib.sha256(body).hexdigest()
    assert _verify(store, ledger).ok
