"""The annual report's monthly evidence section lists each month's attached files (file
name, type, size and SHA-256 prefix), in both languages (real store and ledger)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tansuan.ingest import manual
from tansuan.ledger.log import Ledger
from tansuan.ledger.signing import key_dir, load_or_create_key
from tansuan.platform import ledger_manual_hook
from tansuan.reports.evidence import attachments_table
from tansuan.reports.gather import month_attachments
from tansuan.reports.i18n import Lang
from tansuan.store import Store
from tansuan.store.evidence import PDF, PNG, FileBlobStore, attach
from tests.evidence_support import AT, PDF_BYTES, PNG_BYTES, Clock, open_site_store


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_site_store(db_url)
    yield opened
    opened.close()


def test_each_months_files_are_listed(store: Store, tmp_path: Path) -> None:
    ledger = Ledger(load_or_create_key(key_dir(tmp_path / "keys")), clock=Clock())
    blobs = FileBlobStore(tmp_path / "evidence")
    rows = [
        ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"],
        ["site", "coal", "2026-04", "", "5000", "t", "INV-04"],
    ]
    assert not manual.import_table(
        store, rows, kind="fuel", hooks=[ledger_manual_hook(ledger)]
    ).errors
    given = [
        ("source_month", "boiler/2026-05", "may.pdf", PDF, PDF_BYTES),
        ("manual_entry", "manual/site/coal/20260401-20260430/v1", "inv-04.png", PNG, PNG_BYTES),
        ("source_month", "boiler/2025-12", "last-year.pdf", PDF, PDF_BYTES),
        ("request", "request/3", "answer.pdf", PDF, PDF_BYTES),
    ]
    with store.write() as conn:
        for kind, ref, name, media_type, data in given:
            attach(conn, ledger=ledger, blobs=blobs, site="site", target_kind=kind,
                   target_ref=ref, filename=name, media_type=media_type, data=data,
                   by="alice", at=AT)  # fmt: skip
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    with store.read() as conn:
        found = month_attachments(conn, "site", months)
    inputs = SimpleNamespace(attachments=found)
    en = attachments_table(inputs, Lang("en"))  # type: ignore[arg-type]
    png, pdf = hashlib.sha256(PNG_BYTES).hexdigest(), hashlib.sha256(PDF_BYTES).hexdigest()
    # April's entry file (manual entry of 2026-04-01…30), then May's invoice; the
    # 2025-12 file is another year and the request's answer belongs to no month
    assert en.rows == [
        ["2026-04", "manual/site/coal/20260401-20260430/v1", "inv-04.png", "PNG", 16, png[:16]],
        ["2026-05", "boiler/2026-05", "may.pdf", "PDF", 14, pdf[:16]],
    ]
    assert en.columns[5].label == "SHA-256 (first 16)"
    zh = attachments_table(inputs, Lang("zh"))  # type: ignore[arg-type]
    assert zh.title == "存证文件" and zh.columns[2].label == "文件名"
