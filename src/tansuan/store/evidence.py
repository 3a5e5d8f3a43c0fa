"""Evidence: files attached to a source-month, a manual series entry or a verifier's request.

Invoices, lab reports, calibration certificates and meter photos (PDF, JPEG, PNG, XLSX; at
most ``Settings.evidence_max_bytes``, 50 MiB by default) are stored **content-addressed**:
a blob store keeps the bytes under their SHA-256 (:class:`FileBlobStore` under
``<data_dir>/evidence/<aa>/<sha256>``, or an S3-compatible bucket), and a row of
``evidence`` (:mod:`tansuan.store.schema.evidence`) says what the file is and what it is
attached to. :func:`attach` validates everything before it writes anything, then writes
the blob, inserts the row and appends a ledger leaf (kind ``evidence``, ref
``evidence/<site>/<id>``) in the caller's transaction. Rows are never changed or deleted;
``tansuan verify`` checks each row against its leaf and each blob's bytes against its
SHA-256.

The store layer cannot import the ledger: :func:`attach` takes anything with the ledger's
``append`` (:class:`tansuan.store.grants.LedgerLike`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, select

from tansuan.errors import InputError, NotFound
from tansuan.settings import get_settings
from tansuan.store import schema
from tansuan.store.grants import LedgerLike, site_org

#: Ledger leaf kind of an attached file.
LEAF_KIND = "evidence"

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Media types accepted, with a short name for messages.
MEDIA_TYPES: dict[str, str] = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", XLSX: "XLSX"}

#: What a file may be attached to.
TARGET_KINDS = ("source_month", "manual_entry", "request")

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SOURCE_MONTH = re.compile(r"(?P<source>[^/\s]{1,64})/(?P<month>\d{4}-(0[1-9]|1[0-2]))")
_REQUEST = re.compile(r"request/[1-9]\d{0,17}")
_FORBIDDEN_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


class BlobStore(Protocol):
    """Where evidence bytes live, named by their SHA-256 (lowercase hex)."""

    def put(self, sha256: str, data: bytes) -> None:
        """Store ``data`` under ``sha256`` (a no-op when already there)."""
        ...

    def get(self, sha256: str) -> bytes:
        """The stored bytes; :class:`NotFound` when there are none."""
        ...

    def exists(self, sha256: str) -> bool: ...


def check_sha256(sha256: str) -> str:
    """``sha256`` when it is 64 lowercase hex digits; :class:`InputError` otherwise."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise InputError(
            f"not a SHA-256 (64 lowercase hex digits): {sha256!r} / 不是 SHA-256 摘要",
            field="sha256",
        )
    return sha256


def _check_digest(sha256: str, data: bytes) -> None:
    check_sha256(sha256)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise InputError(
            f"the bytes hash to {actual}, not {sha256} / 文件内容的 SHA-256 与给出的不符",
            field="sha256",
        )


class FileBlobStore:
    """Blobs as files ``<root>/<aa>/<sha256>`` (``aa``: the digest's first two digits).

    A blob is written to a temporary file in its folder, flushed and fsynced, then linked
    to its name — never over an existing file (a stored blob is never overwritten) — and
    the folder is fsynced, so a crash leaves either no blob or the whole blob.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @classmethod
    def for_data_dir(cls, data_dir: Path | str) -> FileBlobStore:
        """The blob store of a data dir: ``<data_dir>/evidence``."""
        return cls(Path(data_dir) / "evidence")

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no evidence file {sha256} in {self.root}") from None

    def put(self, sha256: str, data: bytes) -> None:
        _check_digest(sha256, data)
        path = self.path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{sha256[:8]}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # written meanwhile: same bytes
                os.link(temp, path)
        finally:
            os.unlink(temp)
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Evidence:
    """One attached file as stored (``evidence`` row)."""

    id: int
    site: str
    sha256: str
    filename: str
    media_type: str
    size_bytes: int
    target_kind: str
    target_ref: str
    note: str
    uploaded_by: str
    uploaded_at_us: int

    @property
    def ref(self) -> str:
        """The ref of its ledger leaf."""
        return evidence_ref(self.site, self.id)

    @property
    def uploaded_at(self) -> dt.datetime:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            microseconds=self.uploaded_at_us
        )

    def payload(self) -> dict[str, Any]:
        """The payload of its ``evidence`` leaf."""
        return evidence_payload(self)

    def public(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "id": self.id,
            "site": self.site,
            "sha256": self.sha256,
            "filename": self.filename,
            "media_type": self.media_type,
            "size_bytes": self.size_bytes,
            "target_kind": self.target_kind,
            "target_ref": self.target_ref,
            "note": self.note,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": self.uploaded_at.isoformat(),
        }


def evidence_ref(site: str, evidence_id: int) -> str:
    """``evidence/<site>/<id>``: the ref of an attachment's leaf."""
    return f"evidence/{site}/{int(evidence_id)}"


def evidence_payload(item: Evidence) -> dict[str, Any]:
    """Leaf payload of an attachment: every stored column (verify compares them)."""
    return {
        "id": item.id,
        "site": item.site,
        "sha256": item.sha256,
        "filename": item.filename,
        "media_type": item.media_type,
        "size": item.size_bytes,
        "target_kind": item.target_kind,
        "target_ref": item.target_ref,
        "note": item.note,
        "by": item.uploaded_by,
        "at": item.uploaded_at_us,
    }


# ---------------------------------------------------------------- validation


def sniff_ok(media_type: str, data: bytes) -> bool:
    """True when the bytes' magic matches ``media_type`` (PDF ``%PDF-``; JPEG FF D8 FF; PNG
    89 50 4E 47; XLSX a zip holding ``[Content_Types].xml`` and an ``xl/`` part)."""
    if media_type == PDF:
        return data.startswith(b"%PDF-")
    if media_type == JPEG:
        return data.startswith(b"\xff\xd8\xff")
    if media_type == PNG:
        return data.startswith(b"\x89PNG")
    if media_type == XLSX:
        if not data.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return False
        return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)
    return False


def check_media_type(media_type: str) -> str:
    """The media type without parameters, lowercased; :class:`InputError` (field
    ``media_type``) when it is not one of :data:`MEDIA_TYPES`."""
    base = (media_type or "").split(";", 1)[0].strip().lower()
    if base not in MEDIA_TYPES:
        allowed = ", ".join(f"{name} ({kind})" for kind, name in MEDIA_TYPES.items())
        raise InputError(
            f"evidence must be {allowed}; got {media_type or 'no type'!r} "
            f"/ 存证文件类型不支持（仅限 PDF、JPEG、PNG、XLSX）：{media_type or '未给出'}",
            field="media_type",
        )
    return base


def check_size(size: int, max_bytes: int) -> None:
    """:class:`InputError` (field ``size``) for an empty file or one over ``max_bytes``."""
    if size <= 0:
        raise InputError("the evidence file is empty / 存证文件为空", field="size")
    if size > max_bytes:
        raise InputError(
            f"the evidence file has {size:,} bytes, more than the limit of {max_bytes:,} "
            f"bytes ({max_bytes / 1024 / 1024:g} MiB) / 存证文件 {size:,} 字节，超过上限 "
            f"{max_bytes:,} 字节",
            field="size",
        )


def check_content(media_type: str, data: bytes) -> None:
    """:class:`InputError` (field ``file``) when the bytes are not of ``media_type``."""
    if not sniff_ok(media_type, data):
        name = MEDIA_TYPES[media_type]
        raise InputError(
            f"the file's bytes are not a {name} file although it was declared as "
            f"{media_type} / 文件内容与声明的类型 {name} 不符",
            field="file",
        )


def check_filename(filename: str) -> str:
    name = (filename or "").strip()
    if not name or len(name) > 255 or _FORBIDDEN_NAME.search(name) or name in {".", ".."}:
        raise InputError(
            f"bad evidence file name {filename!r}: 1–255 characters, no path separators or "
            f"control characters / 存证文件名无效：{filename!r}",
            field="filename",
        )
    return name


def check_target(connection: Connection, site: str, target_kind: str, target_ref: str) -> None:
    """:class:`InputError` (field ``target_kind`` / ``target_ref``) unless the target is
    well formed and exists: a source of the site and a month ``<source>/<YYYY-MM>``; a
    logged manual entry of the site (its ``manual_entry`` leaf's ref,
    ``manual/<site>/…``); or ``request/<id>``."""
    if target_kind not in TARGET_KINDS:
        raise InputError(
            f"attach evidence to one of {', '.join(TARGET_KINDS)}; got {target_kind!r} "
            f"/ 存证须关联到排放源月份、手工数据或核查请求",
            field="target_kind",
        )
    ref = target_ref or ""
    if target_kind == "source_month":
        match = _SOURCE_MONTH.fullmatch(ref)
        if match is None:
            raise InputError(
                f"a source-month target is <source>/<YYYY-MM>; got {ref!r} "
                f"/ 排放源月份格式应为 <排放源>/<年-月>",
                field="target_ref",
            )
        e = schema.entity
        found = connection.execute(
            select(e.c.id).where(
                e.c.kind == "source", e.c.site_key == site, e.c.key == match["source"]
            )
        ).first()
        if found is None:
            raise InputError(
                f"site {site!r} has no emission source {match['source']!r} "
                f"/ 站点 {site} 没有排放源 {match['source']}",
                field="target_ref",
            )
    elif target_kind == "manual_entry":
        leaves = schema.ledger_leaves
        found = None
        if ref.startswith(f"manual/{site}/"):
            found = connection.execute(
                select(leaves.c.leaf_index).where(
                    leaves.c.kind == "manual_entry", leaves.c.ref == ref
                )
            ).first()
        if found is None:
            raise InputError(
                f"no logged manual entry {ref!r} in site {site!r} (the target is the entry's "
                f"ledger ref, manual/<site>/<series>/<start>-<end>/v<N>) "
                f"/ 站点 {site} 没有账本记录的手工数据 {ref}",
                field="target_ref",
            )
    elif not _REQUEST.fullmatch(ref):
        raise InputError(
            f"a request target is request/<id>; got {ref!r} / 核查请求格式应为 request/<编号>",
            field="target_ref",
        )


def _at_us(at: dt.datetime | int) -> int:
    if isinstance(at, dt.datetime):
        if at.tzinfo is None:
            raise InputError("the upload time needs a time zone / 上传时间缺少时区", field="at")
        return (at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return int(at)


# ---------------------------------------------------------------- attach and list


def attach(
    connection: Connection,
    *,
    ledger: LedgerLike,
    blobs: BlobStore,
    site: str,
    target_kind: str,
    target_ref: str,
    filename: str,
    media_type: str,
    data: bytes,
    by: str,
    at: dt.datetime | int,
    note: str = "",
    max_bytes: int | None = None,
) -> Evidence:
    """Validate and store one evidence file; return its row.

    Checks, before anything is written (each an :class:`InputError` with a bilingual
    message naming the problem): the site exists; the target (:func:`check_target`);
    the file name; the media type is PDF, JPEG, PNG or XLSX; the size is 1 byte to
    ``max_bytes`` (default ``Settings.evidence_max_bytes``); the bytes' magic matches the
    declared type. Then writes the blob (content-addressed: the same bytes attached twice
    are stored once), inserts the row and appends the ``evidence`` leaf, in the caller's
    transaction (a blob written for a transaction that then rolls back stays as an
    unreferenced file; no row or leaf names it).
    """
    limit = get_settings().evidence_max_bytes if max_bytes is None else max_bytes
    site_org(connection, site)  # NotFound for an unknown site
    check_target(connection, site, target_kind, target_ref)
    name = check_filename(filename)
    kind = check_media_type(media_type)
    check_size(len(data), limit)
    check_content(kind, data)
    uploaded_at_us = _at_us(at)
    sha256 = hashlib.sha256(data).hexdigest()
    blobs.put(sha256, bytes(data))
    t = schema.evidence
    values = {
        "site_key": site,
        "sha256": sha256,
        "filename": name,
        "media_type": kind,
        "size_bytes": len(data),
        "target_kind": target_kind,
        "target_ref": target_ref,
        "note": note or "",
        "uploaded_by": by,
        "uploaded_at_us": uploaded_at_us,
    }
    new_id = int(connection.execute(t.insert().values(**values).returning(t.c.id)).scalar_one())
    item = _evidence(dict(values, id=new_id))
    ledger.append(connection, LEAF_KIND, item.ref, evidence_payload(item))
    return item


def _evidence(row: Any) -> Evidence:
    values = row if isinstance(row, dict) else row._mapping

    def get(name: str) -> Any:
        return values[name]

    return Evidence(
        id=int(get("id")),
        site=str(get("site_key")),
        sha256=str(get("sha256")),
        filename=str(get("filename")),
        media_type=str(get("media_type")),
        size_bytes=int(get("size_bytes")),
        target_kind=str(get("target_kind")),
        target_ref=str(get("target_ref")),
        note=str(get("note")),
        uploaded_by=str(get("uploaded_by")),
        uploaded_at_us=int(get("uploaded_at_us")),
    )


def list_evidence(
    connection: Connection,
    site: str | None,
    target_kind: str | None = None,
    target_ref: str | None = None,
) -> list[Evidence]:
    """Attachments of a site (every site for None), oldest first, optionally of one target
    kind and ref."""
    t = schema.evidence
    query = select(t).order_by(t.c.id)
    if site is not None:
        query = query.where(t.c.site_key == site)
    if target_kind is not None:
        query = query.where(t.c.target_kind == target_kind)
    if target_ref is not None:
        query = query.where(t.c.target_ref == target_ref)
    return [_evidence(row) for row in connection.execute(query)]


def get_evidence(connection: Connection, site: str, evidence_id: int) -> Evidence:
    """One attachment of a site; :class:`NotFound` when there is none."""
    t = schema.evidence
    row = connection.execute(
        select(t).where(t.c.id == int(evidence_id), t.c.site_key == site)
    ).first()
    if row is None:
        raise NotFound(f"no evidence {evidence_id} in site {site!r}")
    return _evidence(row)
