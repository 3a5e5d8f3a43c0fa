"""Evidence files: validated, stored content-addressed, one row and one ``evidence`` leaf
each, in one transaction (real SQLite and PostgreSQL, a real ledger, blobs on disk).

The file sizes are those of the bytes written here: ``PDF`` is the 8 bytes
``%PDF-1.7`` plus the 6 bytes ``\\n%%EOF`` = 14 bytes; a limit of 13 bytes refuses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tansuan.errors import InputError, NotFound
from tansuan.ingest import manual
from tansuan.ledger.log import Ledger
from tansuan.ledger.signing import key_dir, load_or_create_key
from tansuan.platform import ledger_manual_hook
from tansuan.site.model import SiteModel
from tansuan.store import Store, schema
from tansuan.store.evidence import (
    PDF,
    PNG,
    XLSX,
    Evidence,
    FileBlobStore,
    attach,
    get_evidence,
    list_evidence,
)
from tests.conftest import DEFAULT_POINTS, site_document

PDF_BYTES = b"%PDF-1.7\n%%EOF"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 12
#: 2026-11-18 02:30 UTC (10:30 in Shanghai, the frozen test "now") in epoch µs:
#: 20 775 days × 86 400 s + 2.5 h × 3 600 s = 1 794 960 000 + 9 000 = 1 794 969 000 s.
AT = dt.datetime(2026, 11, 18, 2, 30, tzinfo=dt.UTC)
AT_US = 1_794_969_000_000_000


def xlsx_bytes(*, with_xl: bool = True) -> bytes:
    """A minimal workbook archive: ``[Content_Types].xml`` and (optionally) ``xl/…``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml" if with_xl else "word/document.xml", "<workbook/>")
    return buffer.getvalue()


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(load_or_create_key(key_dir(tmp_path / "var")), clock=Clock())


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The test site with one emission source, 'boiler', burning the 'coal' series."""
    document = site_document(DEFAULT_POINTS)
    site = document["organisation"]["companies"][0]["sites"][0]
    site["sources"] = [
        {
            "id": "boiler",
            "method": "combustion",
            "fuel": "raw_coal",
            "activity": [{"series": "coal"}],
            "parameters": {"ncv": {"series": "coal-ncv"}},
        }
    ]
    opened = Store(db_url)
    opened.load_model(SiteModel.model_validate(document), source="test")
    yield opened
    opened.close()


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore.for_data_dir(tmp_path / "var")


def _attach(store: Store, ledger: Ledger, blobs: FileBlobStore, **given: Any) -> Evidence:
    arguments: dict[str, Any] = {
        "site": "site",
        "target_kind": "source_month",
        "target_ref": "boiler/2026-05",
        "filename": "invoice-may.pdf",
        "media_type": PDF,
        "data": PDF_BYTES,
        "by": "alice",
        "at": AT,
    }
    arguments.update(given)
    with store.write() as conn:
        return attach(conn, ledger=ledger, blobs=blobs, **arguments)


def _state(store: Store, blobs: FileBlobStore) -> tuple[int, int, list[str]]:
    """(evidence rows, ledger leaves, files under the blob root)."""
    with store.read() as conn:
        rows = conn.execute(select(func.count()).select_from(schema.evidence)).scalar_one()
        leaves = conn.execute(select(func.count()).select_from(schema.ledger_leaves)).scalar_one()
    files = sorted(str(p.relative_to(blobs.root)) for p in blobs.root.rglob("*") if p.is_file())
    return int(rows), int(leaves), files


def test_attach_stores_blob_row_and_leaf(
    store: Store, ledger: Ledger, blobs: FileBlobStore
) -> None:
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    item = _attach(store, ledger, blobs, note="May coal invoice")
    assert item.sha256 == digest
    assert (item.size_bytes, item.uploaded_at_us, item.ref) == (
        14,
        AT_US,
        f"evidence/site/{item.id}",
    )
    path = blobs.root / digest[:2] / digest
    assert path.read_bytes() == PDF_BYTES
    assert blobs.get(digest) == PDF_BYTES and blobs.exists(digest)
    with store.read() as conn:
        leaf = conn.execute(
            select(
                schema.ledger_leaves.c.kind,
                schema.ledger_leaves.c.ref,
                schema.ledger_leaves.c.payload,
            )
        ).one()
        assert get_evidence(conn, "site", item.id) == item
        assert list_evidence(conn, "site") == [item]
        assert list_evidence(conn, "site", "source_month", "boiler/2026-05") == [item]
        assert list_evidence(conn, "site", "source_month", "boiler/2026-06") == []
        assert list_evidence(conn, "site", "manual_entry") == []
        with pytest.raises(NotFound):
            get_evidence(conn, "other", item.id)
    assert (leaf.kind, leaf.ref) == ("evidence", f"evidence/site/{item.id}")
    assert json.loads(leaf.payload) == {
        "id": item.id,
        "site": "site",
        "sha256": digest,
        "filename": "invoice-may.pdf",
        "media_type": "application/pdf",
        "size": 14,
        "target_kind": "source_month",
        "target_ref": "boiler/2026-05",
        "note": "May coal invoice",
        "by": "alice",
        "at": AT_US,
    }
    assert item.public()["uploaded_at"] == "2026-11-18T02:30:00+00:00"


def test_each_accepted_type(store: Store, ledger: Ledger, blobs: FileBlobStore) -> None:
    """PDF, PNG, JPEG and XLSX with matching bytes are accepted; a media type's parameters
    and case are dropped."""
    for media_type, data, name in (
        (PNG, PNG_BYTES, "meter.png"),
        ("IMAGE/JPEG; q=1", JPEG_BYTES, "meter.jpg"),
        (XLSX, xlsx_bytes(), "lab.xlsx"),
    ):
        item = _attach(store, ledger, blobs, media_type=media_type, data=data, filename=name)
        assert item.media_type == media_type.split(";")[0].lower()
        assert blobs.get(item.sha256) == data


def test_same_bytes_twice_are_one_blob(store: Store, ledger: Ledger, blobs: FileBlobStore) -> None:
    first = _attach(store, ledger, blobs)
    second = _attach(store, ledger, blobs, target_ref="boiler/2026-06", filename="copy.pdf")
    assert first.sha256 == second.sha256 and first.id != second.id
    rows, leaves, files = _state(store, blobs)
    assert (rows, leaves, files) == (2, 2, [f"{first.sha256[:2]}/{first.sha256}"])


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("type", {"media_type": "text/plain"}, "media_type", "存证文件类型不支持"),
    ("no type", {"media_type": ""}, "media_type", "PDF"),
    ("mismatch", {"data": PNG_BYTES}, "file", "not a PDF file"),
    ("jpeg as png", {"media_type": PNG, "data": JPEG_BYTES}, "file", "与声明的类型 PNG 不符"),
    ("zip not xlsx", {"media_type": XLSX, "data": xlsx_bytes(with_xl=False)}, "file", "XLSX"),
    ("pdf as xlsx", {"media_type": XLSX}, "file", "not a XLSX"),
    ("empty", {"data": b""}, "size", "存证文件为空"),
    ("oversize", {"max_bytes": 13}, "size", "14 bytes, more than the limit of 13"),
    ("target kind", {"target_kind": "invoice"}, "target_kind", "source_month"),
    ("month", {"target_ref": "boiler/2026-13"}, "target_ref", "<source>/<YYYY-MM>"),
    ("no month", {"target_ref": "boiler"}, "target_ref", "<source>/<YYYY-MM>"),
    ("source", {"target_ref": "kiln/2026-05"}, "target_ref", "没有排放源 kiln"),
    (
        "entry",
        {"target_kind": "manual_entry", "target_ref": "manual/site/coal/20260501-20260531/v1"},
        "target_ref",
        "no logged manual entry",
    ),
    ("request", {"target_kind": "request", "target_ref": "request/x"}, "target_ref", "request/"),
    ("path name", {"filename": "../etc/passwd"}, "filename", "path separators"),
    ("no name", {"filename": " "}, "filename", "存证文件名无效"),
    ("naive time", {"at": dt.datetime(2026, 11, 18)}, "at", "time zone"),
]


@pytest.mark.parametrize(("given", "field", "words"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_refused_and_nothing_changes(
    store: Store,
    ledger: Ledger,
    blobs: FileBlobStore,
    given: dict[str, Any],
    field: str,
    words: str,
) -> None:
    _attach(store, ledger, blobs, data=PNG_BYTES, media_type=PNG, filename="before.png")
    before = _state(store, blobs)
    with pytest.raises(InputError) as error:
        _attach(store, ledger, blobs, **given)
    assert error.value.field == field
    assert words in error.value.message
    assert _state(store, blobs) == before


def test_unknown_site_is_not_found(store: Store, ledger: Ledger, blobs: FileBlobStore) -> None:
    with pytest.raises(NotFound):
        _attach(store, ledger, blobs, site="nowhere")
    assert _state(store, blobs) == (0, 0, [])


def test_attach_to_a_logged_manual_entry_and_a_request(
    store: Store, ledger: Ledger, blobs: FileBlobStore
) -> None:
    rows = [
        ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"],
        ["site", "coal", "2026-05", "", "5000", "t", "INV-05"],
    ]
    result = manual.import_table(store, rows, kind="fuel", hooks=[ledger_manual_hook(ledger)])
    assert (result.new, result.errors) == (1, [])
    ref = "manual/site/coal/20260501-20260531/v1"
    item = _attach(store, ledger, blobs, target_kind="manual_entry", target_ref=ref)
    request = _attach(store, ledger, blobs, target_kind="request", target_ref="request/7")
    with store.read() as conn:
        assert list_evidence(conn, "site", "manual_entry", ref) == [item]
        assert list_evidence(conn, "site", "request") == [request]
    with pytest.raises(InputError, match="no logged manual entry"):  # another site's ref
        _attach(
            store, ledger, blobs, target_kind="manual_entry", target_ref=ref.replace("site", "x", 1)
        )


def test_a_rolled_back_transaction_leaves_no_row_or_leaf(
    store: Store, ledger: Ledger, blobs: FileBlobStore
) -> None:
    with pytest.raises(RuntimeError), store.write() as conn:
        attach(
            conn, ledger=ledger, blobs=blobs, site="site", target_kind="source_month",
            target_ref="boiler/2026-05", filename="a.pdf", media_type=PDF, data=PDF_BYTES,
            by="alice", at=AT,
        )  # fmt: skip
        raise RuntimeError("the caller fails after attaching")
    rows, leaves, _ = _state(store, blobs)
    assert (rows, leaves) == (0, 0)


def test_file_blob_store_is_content_addressed_and_never_overwrites(tmp_path: Path) -> None:
    blobs = FileBlobStore(tmp_path / "evidence")
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    with pytest.raises(InputError, match="hash to"):
        blobs.put(digest, PNG_BYTES)
    with pytest.raises(InputError, match="SHA-256"):
        blobs.put("../" + digest[3:], PDF_BYTES)
    with pytest.raises(InputError):
        blobs.get(digest.upper())
    with pytest.raises(NotFound):
        blobs.get(digest)
    assert not blobs.exists(digest)
    blobs.put(digest, PDF_BYTES)
    path = tmp_path / "evidence" / digest[:2] / digest
    inode = os.stat(path).st_ino
    path.write_bytes(b"changed")  # a damaged blob is not silently repaired or replaced
    blobs.put(digest, PDF_BYTES)
    assert os.stat(path).st_ino == inode and path.read_bytes() == b"changed"
    assert sorted(p.name for p in path.parent.iterdir()) == [digest]  # no temporary left
