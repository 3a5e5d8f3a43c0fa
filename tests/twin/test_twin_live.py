"""The live simulator speaks the real protocols: CEMS over HJ 212 to the HJ 212 gateway
(its own process), meters over HTTP to the API (a real uvicorn server), both into one
SQLite store."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import uvicorn

from tansuan.settings import Settings, get_settings
from tansuan.store import Store, queries
from tansuan.store import schema as store_schema
from tansuan.twin import demo, live
from tansuan.twin.faults import Fault
from tansuan.twin.history import save_state, state_path
from tansuan.web.app import create_app

#: The live twin speaks the real protocols at the real time.
pytestmark = pytest.mark.real_clock("live data over real protocols, stamped with the real time")

#: The server's ingest token; the twin sends it as a bearer token.
TOKEN = "twin-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, int, int]]:
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    hj_port, http_port = _free_port(), _free_port()
    env = {
        "TANSUAN_DATA_DIR": str(tmp_path / "var"),
        "TANSUAN_DATABASE_URL": url,
        "TANSUAN_HJ212_PORT": str(hj_port),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TANSUAN_GATEWAY_SINK", raising=False)
    get_settings.cache_clear()
    store = Store(url)
    store.load_model(demo.site_model("cement"))
    gateway = subprocess.Popen(
        [sys.executable, "-m", "tansuan.cli", "gateway", "hj212", "--site-model",
         str(demo.site_file("cement"))],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Settings(database_url=url, ingest_token=TOKEN), store=store),
            host="127.0.0.1", port=http_port, log_level="warning",
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", hj_port), 0.2),
            ):
                break
            if gateway.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gateway did not start: {gateway.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.1)
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield store, hj_port, http_port
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        gateway.terminate()
        gateway.wait(timeout=10)
        if gateway.stderr is not None:
            gateway.stderr.close()
        store.close()
        get_settings.cache_clear()


def test_live_data_arrives_over_hj212_and_http(
    servers: tuple[Store, int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, hj_port, http_port = servers
    monkeypatch.setattr(live, "HTTP_BATCH", 7)  # the catch-up goes in several requests
    data_dir = tmp_path / "var"
    since = dt.datetime.now(ZoneInfo("Asia/Shanghai")) - dt.timedelta(minutes=20)
    # as a backfill would leave it: the twin goes on from 20 minutes ago
    save_state(
        state_path(data_dir, "cement"),
        {"site": "cement", "seed": 7, "intervention": None, "day": since.date().isoformat(),
         "registers": {}, "last_ts_us": int(since.timestamp() * 1_000_000)},
    )  # fmt: skip
    start_us = int(since.timestamp() * 1_000_000)
    dropout = Fault("dropout", ("kiln-1.clinker",), start_us, start_us + 3_600_000_000)
    options = live.LiveOptions(
        url=f"http://127.0.0.1:{http_port}", tick_s=0.5, duration_s=2.0,
        hj212=("127.0.0.1", hj_port), timeout_s=5.0, faults=(dropout,), token=TOKEN,
    )  # fmt: skip
    sent = asyncio.run(live.run("cement", data_dir, options))
    assert sent.hj212 >= 3 * 7  # ≥ 3 five-minute uploads of the 7 stack codes
    assert sent.http > 0
    b = store_schema.ingest_batch
    lo, hi = since - dt.timedelta(minutes=5), dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with store.read() as conn:
        sources = {row[0] for row in conn.execute(sa.select(b.c.source))}
        co2 = queries.series(conn, "cement", "kiln-stack.co2", lo, hi, "raw")
        fuel = queries.series(conn, "cement", "kiln-1.fuel", lo, hi, "raw")
        clinker = queries.series(conn, "cement", "kiln-1.clinker", lo, hi, "raw")
    assert {"hj212", "http"} <= sources
    assert len(co2) >= 3 and len(fuel) >= 3
    assert clinker == []  # the injected dropout


def _broker_url() -> str:
    """The test broker (TANSUAN_TEST_MQTT_URL); CI without one is a failure, not a skip."""
    url = os.environ.get("TANSUAN_TEST_MQTT_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must set TANSUAN_TEST_MQTT_URL (.ci/run starts Mosquitto)")
        pytest.skip("needs an MQTT broker: set TANSUAN_TEST_MQTT_URL (.ci/run starts one)")
    return url


def test_live_data_over_mqtt_when_a_broker_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from tansuan.gateways.mqtt import MqttGateway
    from tansuan.gateways.runtime import make_sink
    from tansuan.platform import open_gateway_sink

    broker = _broker_url()
    prefix = f"t-{uuid.uuid4().hex[:10]}"
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    monkeypatch.delenv("TANSUAN_GATEWAY_SINK", raising=False)
    settings = Settings(data_dir=tmp_path / "var", database_url=url)
    store = Store(url)
    store.load_model(demo.site_model("cement"))
    sink = make_sink(settings, source="mqtt", open_sink=open_gateway_sink)
    gateway = MqttGateway(
        sink, url=broker, client_id=f"gw-{prefix}", prefix=prefix, session_expiry_s=60,
        model=demo.site_model("cement"),
    )  # fmt: skip
    gateway.start()
    try:
        assert gateway.connected.wait(10), "gateway did not connect"
        time.sleep(0.3)  # the SUBACK
        since = dt.datetime.now(ZoneInfo("Asia/Shanghai")) - dt.timedelta(minutes=20)
        save_state(
            state_path(settings.data_dir, "cement"),
            {"site": "cement", "seed": 7, "intervention": None, "day": since.date().isoformat(),
             "registers": {}, "last_ts_us": int(since.timestamp() * 1_000_000)},
        )  # fmt: skip
        options = live.LiveOptions(
            tick_s=0.5, duration_s=1.5, hj212=None, mqtt_url=broker, mqtt_prefix=prefix
        )
        sent = asyncio.run(live.run("cement", settings.data_dir, options))
        assert sent.mqtt > 0 and sent.http == 0 and sent.hj212 == 0
        lo = since - dt.timedelta(minutes=5)
        hi = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        deadline = time.monotonic() + 10
        while True:
            with store.read() as conn:
                co2 = queries.series(conn, "cement", "kiln-stack.co2", lo, hi, "raw")
            if len(co2) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(co2) >= 3
    finally:
        gateway.stop()
        sink.__self__.close()  # type: ignore[attr-defined]
        store.close()


def test_meters_over_modbus_and_the_plc_over_opcua(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipyard's grid meter (uint32, 0.01 kWh) and compressors (float32 kW) served
    by the twin's Modbus TCP server and polled by tansuan's Modbus gateway; the boiler's
    fuel flow a variable of the twin's OPC UA PLC, subscribed by the OPC UA gateway."""
    from tansuan.gateways.modbus import ModbusGateway
    from tansuan.gateways.opcua import OpcUaGateway
    from tansuan.gateways.runtime import make_sink
    from tansuan.platform import open_gateway_sink

    port = _free_port()
    endpoint = f"opc.tcp://127.0.0.1:{_free_port()}/tansuan/"
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    monkeypatch.delenv("TANSUAN_GATEWAY_SINK", raising=False)
    settings = Settings(data_dir=tmp_path / "var", database_url=url)
    model = demo.site_model("shipyard")
    store = Store(url)
    store.load_model(model)
    site = model.sites()[0]
    polled = site.model_copy(
        update={
            "connections": tuple(
                c.model_copy(update={"port": port, "poll_interval_s": 0.5})
                if c.id == "meter-bus"
                else c.model_copy(update={"endpoint": endpoint})
                if c.id == "boiler-plc" else c
                for c in site.connections
            )
        }
    )  # fmt: skip
    org = model.organisation
    company = org.companies[0].model_copy(update={"sites": (polled,)})
    gateway_model = model.model_copy(
        update={"organisation": org.model_copy(update={"companies": (company,)})}
    )
    sink = make_sink(settings, source="modbus", open_sink=open_gateway_sink)
    plc_sink = make_sink(settings, source="opcua", open_sink=open_gateway_sink)
    options = live.LiveOptions(
        url=f"http://127.0.0.1:{_free_port()}",  # nobody there: the rest is retried
        tick_s=0.5, duration_s=5.0, hj212=None, modbus=True, modbus_ports={"meter-bus": port},
        opcua=True, opcua_endpoints={"boiler-plc": endpoint}, timeout_s=1.0,
    )  # fmt: skip

    async def main() -> live.Sent:
        stop = asyncio.Event()
        twin = asyncio.create_task(live.run("shipyard", settings.data_dir, options))
        await asyncio.sleep(1.5)
        polling = asyncio.gather(
            ModbusGateway(sink, gateway_model).run(stop),
            OpcUaGateway(plc_sink, gateway_model).run(stop),
        )
        sent = await twin
        stop.set()
        await polling
        return sent

    try:
        sent = asyncio.run(main())
        assert sent.modbus > 0 and sent.opcua > 0
        lo = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        hi = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        with store.read() as conn:
            grid = queries.series(conn, "shipyard", "grid-meter.energy", lo, hi, "raw")
            compressor = queries.series(conn, "shipyard", "compressor-1.power", lo, hi, "raw")
            fuel = queries.series(conn, "shipyard", "boiler-1.fuel", lo, hi, "raw")
            sources = {
                row[0] for row in conn.execute(sa.select(store_schema.ingest_batch.c.source))
            }
        assert {"modbus", "opcua"} <= sources
        assert grid and compressor and fuel
        assert all(0 < float(r["value"]) <= 2 for r in fuel)
        assert all(1e5 < float(r["value"]) < 42949672.96 for r in grid)
        assert all(0 < float(r["value"]) <= 250 for r in compressor)
    finally:
        sink.__self__.close()  # type: ignore[attr-defined]
        plc_sink.__self__.close()  # type: ignore[attr-defined]
        store.close()
