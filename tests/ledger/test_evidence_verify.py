"""Tamper with evidence directly (SQLite and PostgreSQL, a real store, ledger and blob
files): verify names a changed file byte, a deleted file, a changed row, a deleted row
and an inserted row — and holds when nothing was touched."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tansuan.ledger.log import Ledger
from tansuan.ledger.sources import LiveSource
from tansuan.ledger.verify import Outcome, verify_source
from tansuan.store import Store, batch_rows
from tansuan.store.evidence import PDF, PNG, Evidence, FileBlobStore, attach
from tests.evidence_support import AT, PDF_BYTES, PNG_BYTES, open_site_store


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_site_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore.for_data_dir(tmp_path / "var")


def _verify(store: Store, ledger: Ledger, blobs: FileBlobStore) -> Outcome:
    with store.read() as conn:
        return verify_source(LiveSource(conn, batch_rows, ledger.public_key, blobs=blobs))


def _codes(outcome: Outcome) -> list[str]:
    return sorted(f.code for f in outcome.findings)


def _two(store: Store, ledger: Ledger, blobs: FileBlobStore) -> tuple[Evidence, Evidence]:
    with store.write() as conn:
        pdf = attach(
            conn, ledger=ledger, blobs=blobs, site="site", target_kind="source_month",
            target_ref="boiler/2026-05", filename="invoice.pdf", media_type=PDF,
            data=PDF_BYTES, by="alice", at=AT,
        )  # fmt: skip
        png = attach(
            conn, ledger=ledger, blobs=blobs, site="site", target_kind="source_month",
            target_ref="boiler/2026-05", filename="meter.png", media_type=PNG,
            data=PNG_BYTES, by="alice", at=AT,
        )  # fmt: skip
    return pdf, png


def test_untouched_evidence_holds(
    store: Store,
    ledger: Ledger,
    blobs: FileBlobStore,
) -> None:
    _two(store, ledger, blobs)
    outcome = _verify(store, ledger, blobs)
    assert outcome.ok, outcome.findings
    assert "2 evidence records, 2 files hashed / 存证记录 2 条，校验文件 2 个" in outcome.notes


def test_a_changed_file_byte_is_named(
    store: Store,
    ledger: Ledger,
    blobs: FileBlobStore,
) -> None:
    pdf, _ = _two(store, ledger, blobs)
    path = blobs.path(pdf.sha256)
    changed = bytearray(path.read_bytes())
    changed[9] ^= 0x01  # one bit of one byte
    path.write_bytes(bytes(changed))
    outcome = _verify(store, ledger, blobs)
    assert _codes(outcome) == ["evidence_file_changed"]
    detail = outcome.findings[0].detail
    assert f"evidence site/{pdf.id} 'invoice.pdf'" in detail
    assert hashlib.sha256(bytes(changed)).hexdigest()[:16] in detail
    assert f"not the logged {pdf.sha256[:16]}" in detail


def test_a_deleted_file_is_named(
    store: Store,
    ledger: Ledger,
    blobs: FileBlobStore,
) -> None:
    _, png = _two(store, ledger, blobs)
    blobs.path(png.sha256).unlink()
    outcome = _verify(store, ledger, blobs)
    assert _codes(outcome) == ["evidence_file_missing"]
    assert f"file {png.sha256} is gone" in outcome.findings[0].detail


def test_a_changed_row_is_named(
    store: Store,
    ledger: Ledger,
    blobs: FileBlobStore,
) -> None:
    """The row is pointed at another month and another file name."""
    pdf, _ = _two(store, ledger, blobs)
    with store.write() as conn:
        conn.execute(
            text(
                "UPDATE evidence SET target_ref = 'boiler/2026-06', filename = 'x.pdf' "
                "WHERE id = :id"
            ),
            {"id": pdf.id},
        )
    outcome = _verify(store, ledger, blobs)
    assert _codes(outcome) == ["evidence_changed"]
    detail = outcome.findings[0].detail
    assert "filename 'invoice.pdf' → 'x.pdf'" in detail
    assert "target_ref 'boiler/2026-05' → 'boiler/2026-06'" in detail


def test_a_deleted_and_an_inserted_row_are_named(
    store: Store,
    ledger: Ledger,
    blobs: FileBlobStore,
) -> None:
    """The first row is deleted (not the last: SQLite would give its id to the insert)."""
    pdf, png = _two(store, ledger, blobs)
    with store.write() as conn:
        conn.execute(text("DELETE FROM evidence WHERE id = :id"), {"id": pdf.id})
        conn.execute(
            text(
                "INSERT INTO evidence (site_key, sha256, filename, media_type, size_bytes, "
                "target_kind, target_ref, note, uploaded_by, uploaded_at_us) VALUES ('site', "
                ":sha, 'forged.pdf', 'application/pdf', 14, 'source_month', 'boiler/2026-07', "
                "'', 'mallory', 0)"
            ),
            {"sha": png.sha256},
        )
    outcome = _verify(store, ledger, blobs)
    assert _codes(outcome) == ["evidence_removed", "evidence_unlogged"]
    details = " | ".join(f.detail for f in outcome.findings)
    assert f"evidence site/{pdf.id} 'invoice.pdf'" in details and "was deleted" in details
    assert "'forged.pdf' (source_month boiler/2026-07)" in details and "has no leaf" in details
