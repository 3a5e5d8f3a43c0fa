"""``tansuan ledger pubkey|sth|export`` and ``tansuan verify`` end to end (exit codes)."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.ledger.api import receipt_for
from tansuan.ledger.log import Ledger
from tansuan.settings import get_settings

from . import readings_table
from .readings_table import ingest, make_rows

BATCH_ROWS = f"{readings_table.__name__}:batch_rows"
BATCH_IDS = f"{readings_table.__name__}:batch_ids"
REPORT = b"%PDF-1.7 monthly emissions report 2026-01\n"


@pytest.fixture
def cli_ledger(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    """Settings pointing at the test database and a fresh data_dir; the CLI's own ledger."""
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield Ledger.from_data_dir(tmp_path / "var")
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_pubkey_creates_the_key_pair_once(cli_ledger: Ledger, tmp_path: Path) -> None:
    code, out = invoke("ledger", "pubkey")
    assert code == 0 and out.startswith("-----BEGIN PUBLIC KEY-----")
    key_file = tmp_path / "var" / "ledger" / "ed25519.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert invoke("ledger", "pubkey")[1] == out


def test_sth_export_and_verify(engine: Engine, cli_ledger: Ledger, tmp_path: Path) -> None:
    for b in range(3):
        ingest(engine, cli_ledger, b, make_rows(b))
    code, out = invoke("ledger", "sth")
    assert code == 0, out
    assert json.loads(out)["tree_size"] == 3

    code, out = invoke("verify", "--batch-rows", BATCH_ROWS)
    assert code == 0, out
    assert "everything holds" in out and "36 读数 readings" in out

    export = tmp_path / "export"
    code, out = invoke("ledger", "export", str(export), "--batch-rows", BATCH_ROWS)
    assert code == 0, out
    assert invoke("verify", "--export", str(export))[0] == 0

    with engine.begin() as c:
        c.execute(
            text(f"UPDATE {readings_table.readings.name} SET quality = 'M' WHERE batch_id = 1")
        )
    code, out = invoke("verify", "--batch-rows", BATCH_ROWS)
    assert code == 1
    assert "读数被修改 / reading changed" in out and "quality changed N → M" in out
    assert "12 problem(s) found" in out
    assert invoke("verify", "--export", str(export))[0] == 0  # the export kept the old data


def test_verify_without_a_store_says_what_to_do(cli_ledger: Ledger) -> None:
    cli_ledger.issue_sth_now(get_engine())
    code, out = invoke("verify", "--batch-rows", "no.such.module:batch_rows")
    assert code == 2
    assert "--batch-rows" in out


def get_engine() -> Engine:
    from tansuan.cli.ledger_support import engine

    return engine()


def test_verify_report_receipt(engine: Engine, cli_ledger: Ledger, tmp_path: Path) -> None:
    digest = hashlib.sha256(REPORT).hexdigest()
    with engine.begin() as c:
        cli_ledger.append(c, "emission_result", "result/1@1", {"co2_t": 12.5})
        index = cli_ledger.append(c, "report", "report/2026-01", {"sha256": digest})
        receipt = receipt_for(cli_ledger, c, index)
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(receipt), "utf-8")
    document = tmp_path / "report.pdf"
    document.write_bytes(REPORT)
    pub = tmp_path / "log.pem"
    pub.write_text(invoke("ledger", "pubkey")[1])

    args = ["verify", "--report", str(receipt_file), "--public-key", str(pub)]
    code, out = invoke(*args, "--document", str(document))
    assert code == 0, out

    document.write_bytes(REPORT.replace(b"2026-01", b"2026-02"))
    code, out = invoke(*args, "--document", str(document))
    assert code == 1 and "文件与回执不符 / document mismatch" in out

    forged = dict(receipt)
    data = json.loads(base64.b64decode(receipt["leaf_data"]))
    data["payload"]["sha256"] = hashlib.sha256(b"another report").hexdigest()
    forged["leaf_data"] = base64.b64encode(json.dumps(data).encode()).decode()
    receipt_file.write_text(json.dumps(forged), "utf-8")
    code, out = invoke(*args)
    assert code == 1 and "leaf data does not hash to the leaf hash" in out

    wrong = base64.b64encode(hashlib.sha256(b"not a sibling").digest()).decode()
    other = dict(receipt, audit_path=[wrong, *receipt["audit_path"][1:]])
    receipt_file.write_text(json.dumps(other), "utf-8")
    code, out = invoke(*args)
    assert code == 1 and "inclusion proof does not lead to the signed root" in out

    receipt_file.write_text("{not json", "utf-8")
    code, out = invoke(*args)
    assert code == 2 and "错误 / error" in out


def test_unlogged_batch_is_named_live_and_offline(
    engine: Engine, cli_ledger: Ledger, tmp_path: Path
) -> None:
    ingest(engine, cli_ledger, 1, make_rows(1))
    cli_ledger.issue_sth_now(engine)
    with engine.begin() as c:  # a batch written straight into the table, no leaf
        c.execute(
            text(
                f"INSERT INTO {readings_table.readings.name} (point_id, ts_us, version, site_id, "
                "value, quality, batch_id) VALUES ('p0', 1767229200000000, 1, 's1', 1.0, 'N', 77)"
            )
        )
    live = ["verify", "--batch-rows", BATCH_ROWS]
    assert invoke(*live)[0] == 0  # without the listing, verify cannot see it …
    code, out = invoke(*live, "--batch-ids", BATCH_IDS)
    assert code == 1 and "批次未记入账本 / batch unlogged: batch 77 holds 1 readings" in out
    export = tmp_path / "export"
    args = ["ledger", "export", str(export), "--batch-rows", BATCH_ROWS, "--batch-ids", BATCH_IDS]
    assert invoke(*args)[0] == 0
    code, out = invoke("verify", "--export", str(export))
    assert code == 1 and "batch 77 holds 1 readings but no leaf logs it" in out


def test_a_ledger_command_first_leaves_a_store_that_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a brand-new database, ``tansuan ledger sth`` first used to create the ledger's
    tables beside the migrations, and the store then failed to open ("table ledger_leaves
    already exists"). The command now migrates the store's schema instead."""
    from tansuan.store import Store

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        code, out = invoke("ledger", "sth")
        assert code == 0, out
        assert json.loads(out)["tree_size"] == 0
        store = Store(url)  # opening runs the migrations: nothing may be there twice
        store.close()
    finally:
        get_settings.cache_clear()
