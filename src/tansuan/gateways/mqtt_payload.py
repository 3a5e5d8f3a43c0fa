"""The MQTT topic and JSON payload scheme of tansuan: decoding only, no network.

Topics (``<prefix>`` is the setting ``mqtt_topic_prefix``, ``tansuan`` by default)::

    <prefix>/<site>/<point>   readings of one point
    <prefix>/<site>           a batch: readings of any points of one site
    <any topic in the site model's ``protocol.mqtt.topic``>   readings of that point

Payloads are UTF-8 JSON. On a point topic (or a mapped topic) the payload is a bare
number, one reading object, or a list of reading objects::

    21.5
    {"value": 21.5, "unit": "kW", "ts": "2024-05-01T08:00:00+08:00", "quality": "N"}
    [{"value": 21.5, "ts": 1714521600}, {"value": 21.7, "ts": 1714521660}]

On a site (batch) topic every object also names its ``point``::

    [{"point": "fan-001.power", "value": 21.5, "ts": 1714521600}, …]

Fields: ``value`` (number, required); ``ts`` (ISO 8601 *with* a UTC offset, or Unix
seconds; absent means the time the gateway received the message); ``unit`` (the unit
the value is in; absent means the point's canonical unit); ``quality`` (an HJ 212 data
flag, ``N`` by default). A message is decoded as a whole: if any reading in it is bad
the message is rejected with a :class:`~tansuan.errors.Issue` naming the reason (a
stable ``code``) and where (``path``), and nothing of it is stored.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import orjson

from tansuan.errors import ConfigError, Issue
from tansuan.ingest.reading import QUALITY_FLAGS, Reading
from tansuan.site.model import SiteModel

#: Unix-seconds timestamps outside [1990, 2200) are refused: a value in milliseconds
#: (13 digits) lands far beyond 2200 and would otherwise be stored in the wrong era.
_TS_MIN = dt.datetime(1990, 1, 1, tzinfo=dt.UTC).timestamp()
_TS_MAX = dt.datetime(2200, 1, 1, tzinfo=dt.UTC).timestamp()
_FIELDS = frozenset({"value", "ts", "unit", "quality", "point"})


class Rejected(Exception):
    """A message that cannot be decoded; ``issue`` says why (stable code) and where."""

    def __init__(self, code: str, path: str, detail: str) -> None:
        self.issue = Issue(code, path, detail)
        super().__init__(str(self.issue))


@dataclass(frozen=True, slots=True)
class Route:
    """Where a topic's readings go: one site, and one point or (``None``) a batch."""

    site: str
    point: str | None


class TopicScheme:
    """Maps topics to sites and points, checking them against the site model if given.

    Parameters
    ----------
    prefix
        Root of the native scheme (``tansuan``).
    model
        The site model. Without one every site and point is accepted (ingest checks
        them); with one, unknown sites and points are rejected here, and the points'
        ``protocol.mqtt.topic`` entries become mapped topics.
    """

    def __init__(self, prefix: str, model: SiteModel | None = None) -> None:
        self.prefix = prefix.strip("/")
        self._root = self.prefix + "/"
        self._points: dict[str, frozenset[str]] | None = None
        self.mapped: dict[str, Route] = {}
        if model is not None:
            self._points = {}
            for site in model.sites():
                points = site.points()
                self._points[site.id] = frozenset(points)
                for _, point in points.values():
                    if point.protocol.mqtt is not None:
                        topic = point.protocol.mqtt.topic
                        if "+" in topic or "#" in topic or topic in self.mapped:
                            raise ConfigError(
                                f"point {point.id!r}: an MQTT topic must be exact and used "
                                f"by one point only, got {topic!r}",
                                field=f"{site.id}.{point.id}.protocol.mqtt.topic",
                            )
                        self.mapped[topic] = Route(site.id, point.id)
        self._cache: dict[str, Route | None] = {}

    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to: the native tree and every mapped topic."""
        topics = [self._root + "#"]
        topics += [t for t in sorted(self.mapped) if not t.startswith(self._root)]
        return topics

    def route(self, topic: str) -> Route | None:
        """The route of a topic; ``None`` for topics to ignore (``<prefix>/_…``).

        Raises
        ------
        Rejected
            The topic fits no scheme, or names an unknown site or point.
        """
        try:
            return self._cache[topic]
        except KeyError:
            pass
        route = self._route(topic)
        if len(self._cache) < 100_000:
            self._cache[topic] = route
        return route

    def _route(self, topic: str) -> Route | None:
        if topic in self.mapped:
            return self.mapped[topic]
        if not topic.startswith(self._root):
            raise Rejected("topic.unknown", topic, "topic is neither native nor mapped")
        parts = topic[len(self._root) :].split("/")
        if parts[0].startswith("_"):
            return None  # our own service topics (<prefix>/_rejected)
        if len(parts) > 2 or not all(parts):
            raise Rejected(
                "topic.shape", topic, f"expected {self.prefix}/<site>[/<point>], got {topic!r}"
            )
        site = parts[0]
        point = parts[1] if len(parts) == 2 else None
        if self._points is not None:
            if site not in self._points:
                raise Rejected("site.unknown", topic, f"no site {site!r} in the site model")
            if point is not None and point not in self._points[site]:
                raise Rejected("point.unknown", topic, f"no point {point!r} in site {site!r}")
        return Route(site, point)

    def check_point(self, site: str, point: Any, path: str) -> str:
        if not isinstance(point, str) or not point:
            raise Rejected("point.missing", path, "a batch reading needs a 'point' string")
        if self._points is not None and point not in self._points[site]:
            raise Rejected("point.unknown", path, f"no point {point!r} in site {site!r}")
        return point


def parse_ts(raw: Any, path: str, received: dt.datetime) -> dt.datetime:
    """A reading's timestamp: ISO 8601 with an offset, Unix seconds, or absent.

    >>> parse_ts("2024-05-01T08:00:00+08:00", "ts", None).isoformat()
    '2024-05-01T00:00:00+00:00'
    >>> parse_ts(0.0 + 1714521600, "ts", None).isoformat()
    '2024-05-01T00:00:00+00:00'
    """
    if raw is None:
        return received
    if isinstance(raw, str):
        try:
            ts = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise Rejected("ts.format", path, f"not an ISO 8601 time: {raw!r}") from None
        if ts.tzinfo is None:
            raise Rejected("ts.naive", path, f"time {raw!r} needs a UTC offset (e.g. +08:00 or Z)")
        return ts.astimezone(dt.UTC)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not _TS_MIN <= raw < _TS_MAX:
            raise Rejected(
                "ts.range", path, f"{raw!r} is not Unix seconds in 1990..2200 (milliseconds?)"
            )
        return dt.datetime.fromtimestamp(raw, dt.UTC)
    raise Rejected("ts.type", path, "ts must be an ISO 8601 string or Unix seconds")


def _reading(
    obj: Any, site: str, point: str | None, path: str, scheme: TopicScheme, received: dt.datetime
) -> Reading:
    if isinstance(obj, int | float) and not isinstance(obj, bool):
        if point is None:
            raise Rejected("payload.shape", path, "a batch needs objects with a 'point'")
        return Reading(site, point, received, float(obj))
    if not isinstance(obj, dict):
        raise Rejected("payload.shape", path, "expected a number or an object")
    extra = obj.keys() - _FIELDS
    if extra:
        raise Rejected("payload.field", path, f"unknown field(s): {', '.join(sorted(extra))}")
    if point is None:
        point = scheme.check_point(site, obj.get("point"), f"{path}.point")
    elif "point" in obj and obj["point"] != point:
        raise Rejected("point.mismatch", f"{path}.point", "point differs from the topic's point")
    value = obj.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected("value.type", f"{path}.value", f"value must be a number, got {value!r}")
    if not math.isfinite(value):
        raise Rejected("value.type", f"{path}.value", "value must be finite")
    unit = obj.get("unit")
    if unit is not None and not (isinstance(unit, str) and unit):
        raise Rejected("unit.type", f"{path}.unit", "unit must be a non-empty string")
    quality = obj.get("quality", "N")
    if not isinstance(quality, str) or quality not in QUALITY_FLAGS:  # {} is unhashable
        raise Rejected(
            "quality.unknown",
            f"{path}.quality",
            f"quality must be one of {''.join(sorted(QUALITY_FLAGS))}, got {quality!r}",
        )
    ts = parse_ts(obj.get("ts"), f"{path}.ts", received)
    return Reading(site, point, ts, float(value), unit, quality)


def decode(
    route: Route,
    payload: bytes,
    scheme: TopicScheme,
    received: dt.datetime,
    *,
    max_readings: int = 10_000,
) -> list[Reading]:
    """All readings of one message, or :class:`Rejected` for the whole message.

    Parameters
    ----------
    route
        Where the topic goes (from :meth:`TopicScheme.route`).
    payload
        The message body (UTF-8 JSON).
    received
        When the gateway received the message [UTC]; the time of readings without ``ts``.
    max_readings
        Largest number of readings one message may carry.
    """
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise Rejected("payload.json", "$", f"not JSON: {error}") from None
    if isinstance(doc, list):
        if not doc:
            raise Rejected("payload.empty", "$", "an empty list carries no reading")
        if len(doc) > max_readings:
            raise Rejected(
                "payload.too_many", "$", f"{len(doc)} readings, at most {max_readings} allowed"
            )
        return [
            _reading(obj, route.site, route.point, f"$[{i}]", scheme, received)
            for i, obj in enumerate(doc)
        ]
    return [_reading(doc, route.site, route.point, "$", scheme, received)]
