"""OPC UA gateway: data-change subscriptions on the site model's node ids.

For every ``opcua`` connection of every site, the points whose ``protocol.opcua``
names it are monitored with a data-change subscription: one subscription per distinct
``sampling_ms`` (its publishing interval), each monitored item sampled every
``sampling_ms``. Every notification becomes a :class:`Reading`:

* **time** — the value's SourceTimestamp, else its ServerTimestamp, else the time of
  receipt [UTC];
* **value** — numbers as floats, booleans as 1.0 / 0.0; other types (strings, arrays)
  are counted as ``tansuan_opcua_errors_total{kind="type"}`` and skipped;
* **quality** — OPC UA status Good → ``N``; Bad_NoCommunication / Bad_NotConnected /
  Bad_CommunicationError → ``B`` (communication fault); any other Bad or Uncertain
  status → ``D`` (instrument fault: not a valid measurement, HJ 212 flags). A Bad
  status without a value (what servers usually send) gives no reading and is counted
  as ``tansuan_opcua_errors_total{kind="status"}``.

Readings are buffered and handed to the sink every ``flush_s`` (one call per flush).
A sink failure keeps the buffer (up to ``max_pending`` readings) for the next flush;
ingest refusing them (:class:`~tansuan.errors.InputError`) drops them with a log line.
Every ``watchdog_s`` the gateway reads the server's state; if that fails, or the
connection cannot be made, it reconnects and re-subscribes with exponential back-off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.client.ua_client import UASocketState
from asyncua.common.node import Node
from asyncua.ua.status_codes import StatusCodes
from asyncua.ua.uaerrors import UaError

from tansuan.gateways.base import COUNTERS, Backoff, HandOver, Link, Sink, hand_over, reconnecting
from tansuan.ingest.reading import Reading
from tansuan.site.model import Connection, OpcUaAddress, SiteModel

log = logging.getLogger(__name__)

for _name, _help in {
    "tansuan_opcua_notifications_total": "OPC UA data-change notifications received.",
    "tansuan_opcua_readings_total": "Readings from OPC UA committed by the sink.",
    "tansuan_opcua_errors_total": "OPC UA failures per connection, by kind.",
    "tansuan_opcua_connections_total": "Successful connections (with subscriptions) to OPC UA.",
    "tansuan_opcua_dropped_total": "OPC UA readings dropped (pending overflow or refused).",
}.items():
    COUNTERS.describe(_name, _help)

_COMMUNICATION_FAULTS = frozenset(
    {
        StatusCodes.BadNoCommunication,
        StatusCodes.BadNotConnected,
        StatusCodes.BadCommunicationError,
    }
)


def quality_of(status: ua.StatusCode | None) -> str:
    """The HJ 212 data flag for an OPC UA status code.

    >>> quality_of(ua.StatusCode(StatusCodes.Good))
    'N'
    >>> quality_of(ua.StatusCode(StatusCodes.BadNotConnected))
    'B'
    >>> quality_of(ua.StatusCode(StatusCodes.UncertainLastUsableValue))
    'D'
    """
    if status is None or status.is_good():
        return "N"
    if status.value in _COMMUNICATION_FAULTS:
        return "B"
    return "D"


def _utc(ts: dt.datetime | None) -> dt.datetime | None:
    if ts is None:
        return None
    return ts.replace(tzinfo=dt.UTC) if ts.tzinfo is None else ts.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class NodePoint:
    """A point read from an OPC UA node."""

    site: str
    point: str
    address: OpcUaAddress


class _Handler:
    """asyncua subscription handler: turns notifications into buffered readings."""

    def __init__(self, owner: OpcUaConnectionClient, by_node: dict[ua.NodeId, NodePoint]) -> None:
        self.owner = owner
        self.by_node = by_node

    def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
        owner = self.owner
        owner.link.count("notifications_total")
        target = self.by_node.get(node.nodeid)
        if target is None:
            return
        dv = data.monitored_item.Value
        if val is None and dv.StatusCode is not None and not dv.StatusCode.is_good():
            owner.link.count("errors_total", kind="status")
            log.warning(
                "opcua %s: node %s reports %s without a value",
                owner.label,
                target.address.node,
                dv.StatusCode.name,
            )
            return
        if isinstance(val, bool):
            value = 1.0 if val else 0.0
        elif isinstance(val, int | float):
            value = float(val)
        else:
            owner.link.count("errors_total", kind="type")
            log.warning(
                "opcua %s: node %s sent a %s, not a number; skipped",
                owner.label,
                target.address.node,
                type(val).__name__,
            )
            return
        ts = _utc(dv.SourceTimestamp) or _utc(dv.ServerTimestamp) or dt.datetime.now(dt.UTC)
        owner.outbox.put(
            Reading(target.site, target.point, ts, value, quality=quality_of(dv.StatusCode))
        )

    def status_change_notification(self, status: Any) -> None:
        log.warning("opcua %s: subscription status changed: %s", self.owner.label, status)


#: How often a session looks whether the server closed the connection [s].
CLOSED_CHECK_S = 0.1


async def _delete(subscriptions: list[Any]) -> None:
    for subscription in subscriptions:
        await subscription.delete()


def _closed(client: Client) -> bool:
    """Whether the client's socket to the server is closed (the server went away)."""
    protocol = getattr(client.uaclient, "protocol", None)
    return protocol is None or protocol.state is UASocketState.CLOSED


async def _quietly(step: Awaitable[Any], label: str, timeout_s: float) -> None:
    """Await one step of closing a session; a server already gone is not an error."""
    try:
        await asyncio.wait_for(step, timeout_s)
    except Exception as error:  # the server may already be gone
        log.debug("opcua %s: closing: %s", label, error)


class _PublishOnClosed(logging.Filter):
    """Drops asyncua's "Publish iteration crashed" traceback when the cause is a closed
    connection: the session ends on it and the gateway logs it once, as one line
    ("the server closed the connection; reconnecting …"). Any other cause is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (
            isinstance(error, ConnectionError) and record.msg.startswith("Publish iteration")
        )


logging.getLogger("asyncua.client.ua_session.UaSession").addFilter(_PublishOnClosed())


class OpcUaConnectionClient:
    """Subscribes to one OPC UA server (one site-model connection) until stopped."""

    def __init__(
        self,
        sink: Sink,
        site: str,
        connection: Connection,
        points: Sequence[NodePoint],
        *,
        backoff_max_s: float = 60.0,
        flush_s: float = 0.2,
        watchdog_s: float = 2.0,
        max_pending: int = 100_000,
    ) -> None:
        self.sink = sink
        self.connection = connection
        self.points = list(points)
        self.label = f"{site}/{connection.id}"
        self.backoff_max_s = backoff_max_s
        self.flush_s = flush_s
        self.watchdog_s = watchdog_s
        self.outbox: HandOver[Reading] = HandOver(max_pending)
        self.link = Link("opcua", self.label, log)
        self.connected = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, subscribe, flush readings; reconnect with back-off; until ``stop``."""
        flusher = asyncio.create_task(self._flush_loop(stop))
        try:
            await reconnecting(
                self.link,
                self._session,
                stop,
                connected=self.connected,
                backoff=Backoff(self.backoff_max_s),
                errors=(TimeoutError, OSError, UaError),
            )
        finally:
            if stop.is_set():
                await flusher  # returns once stop is set, after a last flush
                if len(self.outbox):
                    await self._flush()
            else:  # cancelled
                flusher.cancel()

    async def _session(self, stop: asyncio.Event) -> None:
        url = self.connection.endpoint or ""
        client = Client(url, timeout=self.connection.timeout_s)
        await client.connect()
        try:
            subscriptions: list[Any] = []
            by_rate: dict[int, list[NodePoint]] = {}
            for point in self.points:
                by_rate.setdefault(point.address.sampling_ms, []).append(point)
            for sampling_ms, points in sorted(by_rate.items()):
                nodes = [client.get_node(p.address.node) for p in points]
                handler = _Handler(
                    self, {node.nodeid: p for node, p in zip(nodes, points, strict=True)}
                )
                subscription = await client.create_subscription(sampling_ms, handler)
                subscriptions.append(subscription)
                results = await subscription.subscribe_data_change(
                    nodes, sampling_interval=ua.Duration(sampling_ms)
                )
                for point, result in zip(points, results, strict=True):
                    if isinstance(result, ua.StatusCode):
                        self.link.count("errors_total", kind="node")
                        log.error(
                            "opcua %s: cannot monitor node %s of point %s: %s",
                            self.label,
                            point.address.node,
                            point.point,
                            result.name,
                        )
            self.link.count("connections_total")
            self.connected.set()
            log.info("opcua %s: subscribed to %d node(s) at %s", self.label, len(self.points), url)
            waited = 0.0
            while not stop.is_set():
                # The socket is looked at often (a closed connection ends the session at
                # once, before asyncua's publish loop retries into it), the server's
                # state read every ``watchdog_s`` (a connection that hangs).
                try:
                    await asyncio.wait_for(stop.wait(), min(self.watchdog_s, CLOSED_CHECK_S))
                except TimeoutError:
                    waited += min(self.watchdog_s, CLOSED_CHECK_S)
                if stop.is_set():
                    break
                if _closed(client):
                    raise ConnectionError("the server closed the connection")
                if waited >= self.watchdog_s:
                    waited = 0.0
                    await asyncio.wait_for(
                        client.nodes.server_state.read_value(), self.connection.timeout_s
                    )
            # A clean end: the subscriptions go first, so no publish request is left
            # outstanding when the session closes.
            await _quietly(_delete(subscriptions), self.label, self.connection.timeout_s)
        finally:
            try:
                await asyncio.wait_for(client.disconnect(), self.connection.timeout_s)
            except Exception as error:  # the server may already be gone
                log.debug("opcua %s: disconnect: %s", self.label, error)

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.flush_s)
            except TimeoutError:
                pass
            await self._flush()

    async def _flush(self) -> None:
        await hand_over(self.link, self.outbox, self.sink, retry_at="flush")


class OpcUaGateway:
    """Subscribes to every OPC UA connection of the site model concurrently."""

    def __init__(self, sink: Sink, model: SiteModel, *, backoff_max_s: float = 60.0) -> None:
        self.clients: list[OpcUaConnectionClient] = []
        for site in model.sites():
            by_connection: dict[str, list[NodePoint]] = {}
            for _, point in site.points().values():
                address = point.protocol.opcua
                if address is not None:
                    by_connection.setdefault(address.connection, []).append(
                        NodePoint(site.id, point.id, address)
                    )
            for connection in site.connections:
                if connection.protocol == "opcua" and connection.id in by_connection:
                    self.clients.append(
                        OpcUaConnectionClient(
                            sink,
                            site.id,
                            connection,
                            by_connection[connection.id],
                            backoff_max_s=backoff_max_s,
                        )
                    )

    async def run(self, stop: asyncio.Event) -> None:
        """Subscribe until ``stop`` is set."""
        if not self.clients:
            log.warning("opcua: the site model maps no point to an opcua connection")
        await asyncio.gather(*(client.run(stop) for client in self.clients))
