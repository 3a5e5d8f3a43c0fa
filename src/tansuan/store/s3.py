"""A small client for S3-compatible object stores (AWS S3, MinIO, Ceph RGW, …).

Only what the evidence store needs: create a bucket, put, get and check an object, with
path-style URLs (``<endpoint>/<bucket>/<key>``) and AWS Signature Version 4 request
signing, on the standard library alone (``http.client``, ``hmac``, ``hashlib``): no SDK
dependency. Every request carries the SHA-256 of its body (``x-amz-content-sha256``),
so the server rejects a body changed on the way.

A refusal or an unreachable server is a :class:`StoreError` naming the operation, the
HTTP status and the server's error code; a missing object is :class:`NotFound`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tansuan.errors import NotFound, StoreError

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_ERROR_CODE = re.compile(rb"<Code>([^<]{1,100})</Code>")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _quote(path: str) -> str:
    """URI-encode a path as SigV4 wants it: every byte but ``A-Za-z0-9-._~`` and ``/``."""
    return urllib.parse.quote(path, safe="/-_.~")


def sign_v4(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    at: dt.datetime,
) -> str:
    """The ``Authorization`` header of a request signed with AWS Signature Version 4.

    ``headers`` are the headers to sign (``host`` and ``x-amz-date`` among them); ``at``
    is the ``x-amz-date`` instant; ``path`` is unencoded.
    """
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    names = sorted(name.lower() for name in headers)
    values = {name.lower(): " ".join(str(value).split()) for name, value in headers.items()}
    canonical_query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(query.items())
    )
    canonical = "\n".join(
        [
            method,
            _quote(path),
            canonical_query,
            "".join(f"{name}:{values[name]}\n" for name in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope},"
        f"SignedHeaders={';'.join(names)},Signature={signature}"
    )


@dataclass
class S3Client:
    """Path-style requests to one S3-compatible endpoint (``http://host:port`` or https)."""

    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    timeout_s: float = 30.0
    clock: Callable[[], dt.datetime] = field(default=_utc_now, repr=False)

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StoreError(
                f"the S3 endpoint must be an http:// or https:// URL, not {self.endpoint!r} "
                "/ S3 端点须为 http(s):// 地址"
            )
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._base = parts.path.rstrip("/")

    def request(
        self,
        method: str,
        bucket: str,
        key: str = "",
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Send one signed request; return (status, body)."""
        path = f"{self._base}/{bucket}" + (f"/{key}" if key else "")
        payload_sha256 = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        at = self.clock()
        signed = {
            "host": self._netloc,
            "x-amz-date": at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ"),
            "x-amz-content-sha256": payload_sha256,
            **{k.lower(): v for k, v in (headers or {}).items()},
        }
        signed["authorization"] = sign_v4(
            method=method,
            path=path,
            query={},
            headers=signed,
            payload_sha256=payload_sha256,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
            service="s3",
            at=at,
        )
        signed["content-length"] = str(len(body))
        connection_type = (
            http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_type(self._netloc, timeout=self.timeout_s)
        try:
            connection.request(method, _quote(path), body=body or None, headers=signed)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as exc:
            raise StoreError(
                f"S3 {method} {bucket}/{key}: {self.endpoint} unreachable ({exc}) "
                f"/ 无法连接 S3 存储"
            ) from exc
        finally:
            connection.close()

    def _fail(self, what: str, status: int, body: bytes) -> StoreError:
        match = _ERROR_CODE.search(body)
        code = match.group(1).decode(errors="replace") if match else "no error code"
        return StoreError(f"S3 {what} refused: HTTP {status} {code} / S3 存储拒绝了请求")

    def create_bucket(self, bucket: str) -> None:
        """Create ``bucket`` (nothing when it is already ours)."""
        status, body = self.request("PUT", bucket)
        if status not in (200, 409) or (status == 409 and b"BucketAlreadyOwnedByYou" not in body):
            raise self._fail(f"create bucket {bucket}", status, body)

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Store an object; with ``if_absent`` never over an existing one (``If-None-Match:
        *``). Return False when it already existed (and was left as it is)."""
        headers = {"if-none-match": "*"} if if_absent else {}
        status, body = self.request("PUT", bucket, key, data, headers)
        if status == 412:
            return False
        if status != 200:
            raise self._fail(f"put {bucket}/{key}", status, body)
        return True

    def get(self, bucket: str, key: str) -> bytes:
        status, body = self.request("GET", bucket, key)
        if status == 404:
            raise NotFound(f"no object {key} in bucket {bucket} at {self.endpoint}")
        if status != 200:
            raise self._fail(f"get {bucket}/{key}", status, body)
        return body

    def exists(self, bucket: str, key: str) -> bool:
        status, body = self.request("HEAD", bucket, key)
        if status == 404:
            return False
        if status != 200:
            raise self._fail(f"head {bucket}/{key}", status, body)
        return True

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object (for tests and operators; tansuan itself never deletes)."""
        status, body = self.request("DELETE", bucket, key)
        if status not in (200, 204):
            raise self._fail(f"delete {bucket}/{key}", status, body)
