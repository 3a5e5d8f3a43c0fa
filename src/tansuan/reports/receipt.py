"""Issue a report into the ledger and find its receipt again for ``tansuan verify``.

What is hashed (the payload's ``sha256``, docs/reports.md):

* **XLSX** — every byte of the workbook as openpyxl wrote it (an empty ZIP comment). The
  receipt follows as the ZIP archive comment (``tansuan-receipt-v1`` and the JSON), which
  spreadsheet programs ignore; ``verify`` puts the empty comment back to hash the file
  and requires the comment to be the receipt re-serialised. Files issued before this
  carry ``FILE.receipt.json`` beside them (``hashed: file``), still verified.
* **PDF** — the file as WeasyPrint printed it (``bytes`` long); the receipt follows as a
  PDF incremental update that adds it to the document information (pdfreceipt.py).
* **HTML** — the UTF-8 bytes of the document *before* the marker line
  ``<!--tansuan-receipt-v1-->``. After the marker come the visible receipt block, the
  receipt itself as ``<script type="application/json" id="tansuan-receipt">`` and the
  closing tags. ``verify`` re-renders that tail from the receipt and requires it to be
  byte-identical, so nothing after the marker can be edited either.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tansuan.errors import InputError
from tansuan.ledger.api import RECEIPT_FORMAT, receipt_for
from tansuan.ledger.log import Ledger
from tansuan.reports import pdfreceipt
from tansuan.reports.formats import HTML_END, render_format
from tansuan.reports.model import Report
from tansuan.store import Store

MARKER = "<!--tansuan-receipt-v1-->\n"
#: what the payload's sha256 covers, by format
HASHED = {
    "html": "content-before-marker",
    "pdf": "content-before-update",
    "xlsx": "file-without-zip-comment",
}
#: the ZIP end-of-central-directory signature, and what an XLSX receipt comment starts with
_EOCD = b"PK\x05\x06"
ZIP_PREFIX = b"tansuan-receipt-v1\n"
SIDECAR_SUFFIX = ".receipt.json"
_SCRIPT = re.compile(
    r'<script type="application/json" id="tansuan-receipt">(.*?)</script>', re.DOTALL
)


@dataclass(frozen=True)
class Issued:
    """An issued report: the file's bytes and its ledger receipt."""

    document: bytes
    receipt: dict[str, Any]
    fmt: str
    report_id: str

    @property
    def embedded(self) -> bool:
        """True: the receipt is inside the file (every format since XLSX carries it as its
        ZIP comment); False: write :meth:`sidecar` too."""
        return True

    def sidecar(self) -> bytes:
        return (json.dumps(self.receipt, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    def write(self, out: Path) -> list[Path]:
        """Write the file (and ``FILE.receipt.json`` for PDF/XLSX); return what was written."""
        out.write_bytes(self.document)
        if self.embedded:
            return [out]
        side = sidecar_path(out)
        side.write_bytes(self.sidecar())
        return [out, side]


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def report_id(report: Report, fmt: str, now: dt.datetime) -> str:
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{report.kind}/{report.site_id}/{report.period}/{report.lang}/{fmt}/{stamp}"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def issue(store: Store, ledger: Ledger, report: Report, fmt: str) -> Issued:
    """Render, log a ``report`` leaf with the content's SHA-256, and attach the receipt.

    The leaf and its signed tree head are written in one transaction of the store.
    """
    content = render_format(report, fmt)
    digest = hashlib.sha256(content).hexdigest()
    now = dt.datetime.now(dt.UTC)
    ident = report_id(report, fmt, now)
    payload = {
        "report_id": ident,
        "format": fmt,
        "sha256": digest,
        "hashed": HASHED[fmt],
        "bytes": len(content),
        "kind": report.kind,
        "site": report.site_id,
        "period": report.period,
        "lang": report.lang,
        "totals": _json_safe(report.totals),
        "provisional": report.provisional,
        "incomplete": report.incomplete,
    }
    with store.write() as conn:
        index = ledger.append(conn, "report", f"report/{ident}", payload)
        receipt = receipt_for(ledger, conn, index)
    if fmt == "html":
        document = content + tail(receipt).encode("utf-8")
    elif fmt == "pdf":
        document = content + pdfreceipt.update(content, receipt)
    else:
        document = zip_with_receipt(content, receipt)
    return Issued(document=document, receipt=receipt, fmt=fmt, report_id=ident)


def _zip_comment(receipt: dict[str, Any]) -> bytes:
    return ZIP_PREFIX + json.dumps(receipt, sort_keys=True, ensure_ascii=True).encode("ascii")


def zip_with_receipt(content: bytes, receipt: dict[str, Any]) -> bytes:
    """The XLSX ``content`` (a ZIP without comment) with the receipt as its ZIP comment."""
    comment = _zip_comment(receipt)
    if content[-22:-18] != _EOCD or content[-2:] != b"\x00\x00" or len(comment) > 0xFFFF:
        raise InputError("XLSX 回执无法写入 ZIP 注释 / cannot put the receipt in the XLSX")
    return content[:-2] + len(comment).to_bytes(2, "little") + comment


def split_zip(data: bytes) -> tuple[dict[str, Any], bytes, bytes] | None:
    """(receipt, the file with an empty ZIP comment, the comment) of an issued XLSX."""
    at = data.rfind(_EOCD)
    if at < 0 or len(data) < at + 22:
        return None
    comment = data[at + 22 :]
    if not comment.startswith(ZIP_PREFIX):
        return None
    try:
        receipt = json.loads(comment[len(ZIP_PREFIX) :])
    except ValueError as error:
        raise InputError(f"XLSX 回执无法解析 / the XLSX receipt is not JSON: {error}") from error
    return receipt, data[: at + 20] + b"\x00\x00", comment


def tail(receipt: dict[str, Any]) -> str:
    """What follows the marker in an issued HTML report: visible receipt, JSON, end tags."""
    sth = receipt.get("sth", {})
    payload = json.loads(base64.b64decode(receipt["leaf_data"]))["payload"]
    rows = [
        ("账本记录 / ledger ref", receipt.get("ref", "")),
        ("叶子序号 / leaf index", receipt.get("leaf_index", "")),
        ("叶子哈希 / leaf hash", receipt.get("leaf_hash", "")),
        ("报告内容 SHA-256 / content SHA-256", payload.get("sha256", "")),
        ("树大小 / tree size", receipt.get("tree_size", "")),
        ("包含证明 / inclusion proof", " ".join(receipt.get("audit_path", [])) or "—"),
        ("根哈希 / root hash", sth.get("sha256_root_hash", "")),
        ("树头时间 / STH timestamp [ms]", sth.get("timestamp", "")),
        ("树头签名 / STH signature (Ed25519)", sth.get("tree_head_signature", "")),
        ("密钥编号 / key id", sth.get("key_id", "")),
    ]
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    data = json.dumps(receipt, sort_keys=True, ensure_ascii=True).replace("</", "<\\/")
    return (
        MARKER
        + '<section class="receipt"><h2>账本回执 / Ledger receipt</h2>'
        + f'<table class="facts">{body}</table>'
        + "<p>校验 / verify: <code>tansuan verify --report FILE</code></p>"
        + f'<script type="application/json" id="tansuan-receipt">{data}</script>'
        + "</section>\n"
        + HTML_END
    )


def resolve(
    path: Path, document: Path | None = None
) -> tuple[dict[str, Any], bytes | None, list[tuple[str, str]]]:
    """What ``tansuan verify --report PATH`` checks: (receipt, hashed bytes, findings).

    ``PATH`` may be a receipt JSON (with ``document`` the file it covers), an issued HTML
    or PDF report (receipt embedded), or a report with ``PATH.receipt.json`` beside it.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"无法读取 / cannot read {path}: {error}", field=str(path)) from error
    receipt = _as_receipt(data)
    if receipt is not None:
        return receipt, None if document is None else _read(document), []
    marker = MARKER.encode("utf-8")
    at = data.rfind(marker)
    if at >= 0:
        found = _SCRIPT.search(data[at:].decode("utf-8", errors="replace"))
        if found is None:
            raise InputError(f"{path}: 报告中没有回执 / the report's receipt block is missing")
        try:
            receipt = json.loads(found.group(1))
        except ValueError as error:
            raise InputError(f"{path}: 回执无法解析 / receipt is not JSON: {error}") from error
        findings = []
        try:
            expected = tail(receipt).encode("utf-8")
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(f"{path}: not a tansuan receipt: {error}") from error
        if data[at:] != expected:
            findings.append(("document_mismatch", "the receipt block after the marker was edited"))
        return receipt, data[:at], findings
    if data.startswith(b"%PDF-"):
        parts = pdfreceipt.split(data)
        if parts is not None:
            receipt, content, update = parts
            try:
                expected_update = pdfreceipt.update(content, receipt)
            except InputError:
                expected_update = b""
            findings = []
            if update != expected_update:
                findings.append(
                    ("document_mismatch", "the PDF's update after the logged content was edited")
                )
            return receipt, content, findings
    if data.startswith(b"PK\x03\x04"):
        zipped = split_zip(data)
        if zipped is not None:
            receipt, content, comment = zipped
            findings = []
            declared = int.from_bytes(data[len(content) - 2 : len(content)], "little")
            if comment != _zip_comment(receipt) or declared != len(comment):
                findings.append(("document_mismatch", "the XLSX's receipt comment was edited"))
            return receipt, content, findings
    side = sidecar_path(path)
    if not side.exists():
        raise InputError(
            f"{path} 不是回执，也没有内嵌回执或 {side.name} / is neither a receipt, nor an "
            f"HTML report with its receipt, nor a file with {side.name} beside it",
            field=str(path),
        )
    receipt = _as_receipt(side.read_bytes())
    if receipt is None:
        raise InputError(f"{side} 不是 tansuan 回执 / is not a tansuan receipt", field=str(side))
    return receipt, data, []


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"无法读取 / cannot read {path}: {error}", field=str(path)) from error


def _as_receipt(data: bytes) -> dict[str, Any] | None:
    if not data.lstrip().startswith(b"{"):
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if isinstance(value, dict) and value.get("format") == RECEIPT_FORMAT:
        return value
    if isinstance(value, dict) and "format" in value:
        raise InputError(f"unknown receipt format {value.get('format')!r}", field="format")
    return None
