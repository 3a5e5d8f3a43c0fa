"""Evidence over HTTP (the real app, SQLite and PostgreSQL): upload to a source-month,
list, download; wrong type 415, mismatched bytes 415, oversize 413, missing or unknown
target 422 — and for each refusal the evidence rows, the blob folder and the ledger are
unchanged. Another organisation sees nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tansuan.store import schema
from tests.evidence_support import PDF_BYTES, PNG_BYTES, xlsx_bytes
from tests.web.conftest import Deployment

URL = "/api/v1/sites/demo-site/evidence"
TARGET = {"target_kind": "source_month", "target_ref": "grid-power/2026-10"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _state(deployment: Deployment) -> tuple[int, int, list[str]]:
    """(evidence rows, ledger leaves, files in the blob folder)."""
    root: Path = deployment.app.state.settings.data_dir / "evidence"
    with deployment.store.read() as conn:
        rows = conn.execute(select(func.count()).select_from(schema.evidence)).scalar_one()
        leaves = conn.execute(select(func.count()).select_from(schema.ledger_leaves)).scalar_one()
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    return int(rows), int(leaves), files


def test_upload_list_and_download(deployment: Deployment) -> None:
    alice = deployment.client("alice")
    before_rows, before_leaves, _ = _state(deployment)
    response = alice.post(
        URL,
        files={"file": ("账单-10.pdf", PDF_BYTES, "application/pdf")},
        data=TARGET | {"note": "October grid invoice"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    assert body | {"id": 0, "uploaded_at": ""} == {
        "id": 0,
        "site": "demo-site",
        "sha256": digest,
        "filename": "账单-10.pdf",
        "media_type": "application/pdf",
        "size_bytes": 14,
        "target_kind": "source_month",
        "target_ref": "grid-power/2026-10",
        "note": "October grid invoice",
        "uploaded_by": "alice",
        "uploaded_at": "",
        "download": f"{URL}/{body['id']}",
    }
    assert body["uploaded_at"] == deployment.now.isoformat()  # the frozen platform clock
    rows, leaves, files = _state(deployment)
    assert (rows, leaves, files) == (before_rows + 1, before_leaves + 1, [f"{digest[:2]}/{digest}"])
    listed = alice.get(URL, params=TARGET).json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert alice.get(URL, params={"target_ref": "grid-power/2026-09"}).json()["items"] == []
    download = alice.get(body["download"])
    assert download.status_code == 200
    assert download.content == PDF_BYTES
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-sha256"] == digest
    assert "filename*=UTF-8''%E8%B4%A6%E5%8D%95-10.pdf" in download.headers["content-disposition"]


def test_xlsx_declared_by_extension(deployment: Deployment) -> None:
    """A client that sends no type (octet-stream): the extension declares it."""
    alice = deployment.client("alice")
    response = alice.post(
        URL, files={"file": ("lab.xlsx", xlsx_bytes(), "application/octet-stream")}, data=TARGET
    )
    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == XLSX


BAD: list[tuple[str, dict[str, Any], dict[str, str], int, str]] = [
    ("text", {"file": ("a.txt", b"hello", "text/plain")}, TARGET, 415, "media_type"),
    ("mismatch", {"file": ("a.pdf", PNG_BYTES, "application/pdf")}, TARGET, 415, "file"),
    ("zip as xlsx", {"file": ("a.xlsx", b"PK\x03\x04 not a zip", XLSX)}, TARGET, 415, "file"),
    ("oversize", {"file": ("a.pdf", PDF_BYTES + b" " * 7, "application/pdf")}, TARGET, 413,
     "size"),
    ("no target", {"file": ("a.pdf", PDF_BYTES, "application/pdf")}, {}, 422, "target_kind"),
    ("no ref", {"file": ("a.pdf", PDF_BYTES, "application/pdf")},
     {"target_kind": "source_month"}, 422, "target_ref"),
    ("unknown source", {"file": ("a.pdf", PDF_BYTES, "application/pdf")},
     {"target_kind": "source_month", "target_ref": "kiln/2026-10"}, 422, "target_ref"),
    ("no file", {}, TARGET, 422, "file"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("files", "data", "status", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_upload_is_refused_and_nothing_changes(
    deployment: Deployment, files: dict[str, Any], data: dict[str, str], status: int, field: str
) -> None:
    """The limit is set to 20 bytes: the 14-byte PDF fits, 14 + 7 = 21 bytes does not."""
    deployment.app.state.settings = deployment.app.state.settings.model_copy(
        update={"evidence_max_bytes": 20}
    )
    alice = deployment.client("alice")
    first = alice.post(URL, files={"file": ("ok.png", PNG_BYTES, "image/png")}, data=TARGET)
    assert first.status_code == 201, first.text
    before = _state(deployment)
    response = alice.post(URL, files=files or None, data=data)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["field"] == field and " / " in problem["detail"]  # English / 中文
    assert _state(deployment) == before


def test_other_organisations_see_nothing(deployment: Deployment) -> None:
    alice = deployment.client("alice")
    item = alice.post(URL, files={"file": ("a.pdf", PDF_BYTES, "application/pdf")}, data=TARGET)
    before = _state(deployment)
    bob = deployment.client("bob")
    upload = bob.post(URL, files={"file": ("b.pdf", PDF_BYTES, "application/pdf")}, data=TARGET)
    assert upload.status_code == 404
    assert bob.get(URL).status_code in (403, 404)
    assert bob.get(item.json()["download"]).status_code in (403, 404)
    assert _state(deployment) == before


def test_a_changed_file_is_not_served(deployment: Deployment) -> None:
    alice = deployment.client("alice")
    body = alice.post(
        URL, files={"file": ("a.pdf", PDF_BYTES, "application/pdf")}, data=TARGET
    ).json()
    path = deployment.app.state.settings.data_dir / "evidence" / body["sha256"][:2] / body["sha256"]
    path.write_bytes(PDF_BYTES.replace(b"1.7", b"1.4"))
    response = alice.get(body["download"])
    assert response.status_code == 409
    assert "no longer matches" in response.json()["detail"]


def test_the_trace_shows_the_months_files(deployment: Deployment) -> None:
    """The trace of a source-month (API and the dashboard's fragment) lists the files
    attached to that source and month, with name, type, size, SHA-256 and a link."""
    alice = deployment.client("alice")
    with deployment.store.read() as conn:
        set_id, period = conn.execute(
            select(schema.result_sets.c.id, schema.result_sets.c.period).where(
                schema.result_sets.c.source_id == "grid-power",
                schema.result_sets.c.status == "current",
            )
        ).first()  # type: ignore[misc]
    target = {"target_kind": "source_month", "target_ref": f"grid-power/{period}"}
    body = alice.post(
        URL, files={"file": ("grid.pdf", PDF_BYTES, "application/pdf")}, data=target
    ).json()
    alice.post(URL, files={"file": ("other.png", PNG_BYTES, "image/png")}, data=TARGET)
    trace = alice.get(f"/api/v1/results/{set_id}/trace").json()
    assert [(e["filename"], e["sha256"]) for e in trace["evidence"]] == [
        ("grid.pdf", body["sha256"])
    ]
    page = alice.get(f"/ui/trace/{set_id}").text
    assert "grid.pdf" in page and body["sha256"] in page and body["download"] in page
    assert "other.png" not in page
