"""A real S3-compatible server for the tests: moto's standalone server (``moto[server]``,
a dev extra), started as a separate process on a loopback port, with request signing
enforced (an IAM user with an access key; a wrong key or signature is refused).

MinIO's server is the reference the issue names, but it is not distributed through the
registries this project can install from, so the tests use moto's server, which speaks
the same S3 REST protocol and checks AWS Signature Version 4 like MinIO does.

``TANSUAN_TEST_S3_PYTHONPATH``: extra import path for the server process only (a folder
holding moto and its dependencies when they are not installed in the test environment).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

#: The IAM calls made before signing is enforced: create the user, allow it S3, make its key.
_UNSIGNED_SETUP_CALLS = 3


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


def _environment() -> dict[str, str]:
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(_UNSIGNED_SETUP_CALLS))
    extra = os.environ.get("TANSUAN_TEST_S3_PYTHONPATH")
    if extra:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, env.get("PYTHONPATH")) if p)
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _iam(port: int, **params: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = urllib.parse.urlencode(dict(params, Version="2010-05-08"))
    # unsigned setup call: the scope names the IAM service, the server routes by it
    scope = "setup/20260101/us-east-1/iam/aws4_request"
    connection.request(
        "POST",
        "/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, "
            "Signature=0",
        },
    )
    response = connection.getresponse()
    data = response.read()
    connection.close()
    assert response.status == 200, data
    return data


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """Start the server, make an IAM user allowed ``s3:*`` and its key; stop it after."""
    env = _environment()
    found = subprocess.run(
        [sys.executable, "-c", "import moto.server"], env=env, capture_output=True, check=False
    )
    if found.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must provide moto[server] (the dev extras)")
        pytest.skip("moto[server] is not installed: pip install -e '.[dev]'")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the S3 test server did not start") from None
                time.sleep(0.1)
        _iam(port, Action="CreateUser", UserName="tansuan")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        _iam(
            port,
            Action="PutUserPolicy",
            UserName="tansuan",
            PolicyName="evidence",
            PolicyDocument=json.dumps(policy),
        )
        created = _iam(port, Action="CreateAccessKey", UserName="tansuan")
        key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", created)
        secret = re.search(rb"<SecretAccessKey>([^<]+)</SecretAccessKey>", created)
        assert key is not None and secret is not None, created
        yield S3Server(f"http://127.0.0.1:{port}", key.group(1).decode(), secret.group(1).decode())
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
