"""Connection limits of the HJ 212 gateway, over real sockets from two source addresses.

Linux routes all of 127.0.0.0/8 to the loopback interface, so a client socket bound to
127.0.0.2 reaches a server on 127.0.0.1 from a second source address.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from tansuan.gateways.base import COUNTERS
from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.client import Hj212Client
from tansuan.gateways.hj212.server import Limits

from .hj212_fixtures import PW, SqliteSink, mn, read_answer, running, site_model

MINUTE = {"a05001": {"Avg": 82000.5, "Flag": "N"}}
OTHER = "127.0.0.2"


@pytest.fixture
def sink(tmp_path: Path) -> SqliteSink:
    return SqliteSink(tmp_path / "readings.db")


async def closed_by_server(reader: asyncio.StreamReader, timeout: float = 2.0) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), timeout) == b""
    except ConnectionError:
        return True


async def upload_from(port: int, local: str, data_time: str) -> codec.Packet:
    """One logger's upload from source address ``local``; its answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(local, 0))
    try:
        client = Hj212Client("127.0.0.1", port, mn=mn(0), pw=PW)
        writer.write(client.upload_packet("2051", data_time, MINUTE))
        return codec.decode(await read_answer(reader))
    finally:
        writer.close()


def test_one_address_cannot_take_every_slot(
    sink: SqliteSink, caplog: pytest.LogCaptureFixture
) -> None:
    before = COUNTERS.get("tansuan_hj212_connections_refused_total", reason="per_address")

    async def scenario() -> None:
        limits = Limits(max_connections_per_address=5, login_timeout_s=30)
        async with running(site_model(1), sink, limits) as server:
            idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(5)]
            await asyncio.sleep(0.1)
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            assert await closed_by_server(reader)  # the sixth from 127.0.0.1
            writer.close()
            # The five idle ones are still open; a logger elsewhere gets through.
            assert server.per_address == {"127.0.0.1": 5}
            answer = await upload_from(server.port, OTHER, "20240101100100")
            assert answer.cn == "9014"
            for _, w in idle:
                w.close()

    with caplog.at_level(logging.WARNING, logger="tansuan.gateways.hj212.server"):
        asyncio.run(scenario())
    assert COUNTERS.get("tansuan_hj212_connections_refused_total", reason="per_address") == (
        before + 1
    )
    assert any("refusing 127.0.0.1:" in r.getMessage() for r in caplog.records)
    assert [row[1] for row in sink.rows()] == ["s0.co2"]


def test_when_full_the_idlest_connection_never_logged_in_makes_room(sink: SqliteSink) -> None:
    before = COUNTERS.get("tansuan_hj212_connections_evicted_total")

    async def scenario() -> None:
        limits = Limits(max_connections=3, login_timeout_s=30)
        async with running(site_model(1), sink, limits) as server:
            idle = []
            for _ in range(3):
                idle.append(await asyncio.open_connection("127.0.0.1", server.port))
                await asyncio.sleep(0.05)  # the first is the idlest
            answer = await upload_from(server.port, OTHER, "20240101100100")
            assert answer.cn == "9014"
            assert await closed_by_server(idle[0][0])
            for reader, _ in idle[1:]:  # the others stay
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(reader.read(), 0.2)
            for _, w in idle:
                w.close()

    asyncio.run(scenario())
    assert COUNTERS.get("tansuan_hj212_connections_evicted_total") == before + 1
    assert len(sink.rows()) == 1
