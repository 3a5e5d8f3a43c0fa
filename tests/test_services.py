"""The data-quality page's gateway table is built from the gateways' own counters."""

from __future__ import annotations

import pytest

from tansuan.errors import ConfigError
from tansuan.gateways.base import COUNTERS
from tansuan.services import gateway_status, jobs
from tansuan.settings import Settings


def test_gateway_rows_from_counters() -> None:
    COUNTERS.inc("tansuan_modbus_readings_total", 3, connection="site-x/meters")
    COUNTERS.inc("tansuan_modbus_errors_total", 2, connection="site-x/meters", kind="timeout")
    COUNTERS.inc("tansuan_opcua_errors_total", 1, connection="site-x/plc", kind="connect")
    rows = {(r["protocol"], r["name"]): r for r in gateway_status()}
    meters = rows[("modbus", "site-x/meters")]
    assert meters["connected"] and meters["site"] == "site-x"
    assert "timeout ×" in meters["last_error"]
    plc = rows[("opcua", "site-x/plc")]
    assert not plc["connected"] and "connect ×" in plc["last_error"]


def test_unknown_services_are_refused() -> None:
    with pytest.raises(ConfigError, match="bacnet"):
        jobs(Settings(serve_services="hj212,bacnet"))
    assert len(jobs(Settings(serve_services=""))) == 1  # the STH schedule always runs


def test_the_alerts_job_is_a_service_and_checks_its_webhooks() -> None:
    assert len(jobs(Settings(serve_services="alerts"))) == 2  # the STH schedule and alerts
    with pytest.raises(ConfigError, match="FORMAT=http"):
        jobs(Settings(serve_services="alerts", alert_webhooks=["slack=http://x"]))
