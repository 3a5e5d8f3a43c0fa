"""Fixtures for gateway tests: a real broker URL, free ports, waiting helpers."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .sqlite_sink import SqliteSink


def broker_url() -> str:
    """The test broker (TANSUAN_TEST_MQTT_URL); CI without one is a failure, not a skip."""
    url = os.environ.get("TANSUAN_TEST_MQTT_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must set TANSUAN_TEST_MQTT_URL (.ci/run starts Mosquitto)")
        pytest.skip("needs an MQTT broker: set TANSUAN_TEST_MQTT_URL (.ci/run starts one)")
    return url


@pytest.fixture
def mqtt_url() -> str:
    return broker_url()


@pytest.fixture
def prefix() -> str:
    """A topic root of our own, so tests never see each other's messages."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SqliteSink]:
    s = SqliteSink(tmp_path / "sink.db")
    yield s
    s.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
