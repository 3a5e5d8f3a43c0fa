"""Evidence in an S3-compatible bucket: a real server process on a loopback port (moto's
standalone server, see tests/s3_server.py) that enforces request signing; the store's
own Signature Version 4 signer against AWS's published example.

The published example (Amazon S3 API reference, "Signature Calculations for the
Authorization Header: Example GET Object"): GET /test.txt on examplebucket, Range
bytes=0-9, empty body, 2013-05-24T00:00:00Z, key AKIAIOSFODNN7EXAMPLE — signature
f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tansuan.errors import InputError, NotFound, StoreError
from tansuan.ledger.log import Ledger
from tansuan.ledger.signing import key_dir, load_or_create_key
from tansuan.settings import Settings
from tansuan.store import Store
from tansuan.store.evidence import PDF, S3BlobStore, attach, blob_store, list_evidence
from tansuan.store.s3 import EMPTY_SHA256, S3Client, sign_v4
from tests.evidence_support import AT, PDF_BYTES, PNG_BYTES, Clock, open_site_store
from tests.s3_server import S3Server, s3_server

BUCKET = "tansuan-evidence"


def test_signature_v4_matches_the_published_example() -> None:
    at = dt.datetime(2013, 5, 24, tzinfo=dt.UTC)
    header = sign_v4(
        method="GET",
        path="/test.txt",
        query={},
        headers={
            "Host": "examplebucket.s3.amazonaws.com",
            "Range": "bytes=0-9",
            "x-amz-content-sha256": EMPTY_SHA256,
            "x-amz-date": "20130524T000000Z",
        },
        payload_sha256=EMPTY_SHA256,
        access_key="AKIAIOSFODNN7EXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        service="s3",
        at=at,
    )
    assert header == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_site_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(load_or_create_key(key_dir(tmp_path / "keys")), clock=Clock())


@pytest.fixture(scope="module")
def server() -> Iterator[S3Server]:
    with s3_server() as running:
        S3Client(running.endpoint, running.access_key, running.secret_key).create_bucket(BUCKET)
        yield running


def _settings(server: S3Server, tmp_path: Path, **given: str) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "var",
        "evidence_s3_endpoint": server.endpoint,
        "evidence_s3_bucket": BUCKET,
        "evidence_s3_access_key": server.access_key,
        "evidence_s3_secret_key": server.secret_key,
        "evidence_s3_prefix": f"t/{tmp_path.name}",
    }
    values.update(given)
    return Settings(**values)  # type: ignore[arg-type]


def test_s3_blob_store_is_content_addressed_and_never_overwrites(
    server: S3Server, tmp_path: Path
) -> None:
    blobs = blob_store(_settings(server, tmp_path))
    assert isinstance(blobs, S3BlobStore)
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    assert blobs.key(digest) == f"t/{tmp_path.name}/{digest}"
    assert not blobs.exists(digest)
    with pytest.raises(NotFound):
        blobs.get(digest)
    with pytest.raises(InputError, match="hash to"):
        blobs.put(digest, PNG_BYTES)
    assert not blobs.exists(digest)
    blobs.put(digest, PDF_BYTES)
    assert blobs.exists(digest) and blobs.get(digest) == PDF_BYTES
    # someone replaces the object behind tansuan's back: a later put leaves it alone (and
    # verify, which hashes what it reads, names it)
    blobs.client.put(BUCKET, blobs.key(digest), b"changed")
    blobs.put(digest, PDF_BYTES)
    assert blobs.get(digest) == b"changed"
    assert blobs.client.put(BUCKET, blobs.key(digest), PDF_BYTES, if_absent=True) is False


def test_a_wrong_key_is_refused_by_the_server(server: S3Server, tmp_path: Path) -> None:
    blobs = blob_store(_settings(server, tmp_path, evidence_s3_secret_key="not-the-secret"))
    with pytest.raises(StoreError, match="HTTP 403"):
        blobs.exists(hashlib.sha256(b"x").hexdigest())  # HEAD: a status without a body
    with pytest.raises(StoreError, match="HTTP 403 SignatureDoesNotMatch"):
        blobs.get(hashlib.sha256(b"x").hexdigest())
    nowhere = blob_store(_settings(server, tmp_path, evidence_s3_endpoint="http://127.0.0.1:9"))
    with pytest.raises(StoreError, match="unreachable"):
        nowhere.exists(hashlib.sha256(b"x").hexdigest())


def test_attach_to_a_bucket(
    server: S3Server,
    tmp_path: Path,
    store: Store,
    ledger: Ledger,
) -> None:
    blobs = blob_store(_settings(server, tmp_path))
    with store.write() as conn:
        item = attach(
            conn, ledger=ledger, blobs=blobs, site="site", target_kind="source_month",
            target_ref="boiler/2026-05", filename="invoice.pdf", media_type=PDF,
            data=PDF_BYTES, by="alice", at=AT,
        )  # fmt: skip
    assert blobs.get(item.sha256) == PDF_BYTES
    png = hashlib.sha256(PNG_BYTES).hexdigest()
    with pytest.raises(InputError), store.write() as conn:  # declared PDF, bytes are PNG
        attach(
            conn, ledger=ledger, blobs=blobs, site="site", target_kind="source_month",
            target_ref="boiler/2026-05", filename="x.pdf", media_type=PDF,
            data=PNG_BYTES, by="alice", at=AT,
        )  # fmt: skip
    assert not blobs.exists(png)
    with store.read() as conn:
        assert list_evidence(conn, "site") == [item]
    assert not (tmp_path / "var" / "evidence").exists()  # nothing on local disk
