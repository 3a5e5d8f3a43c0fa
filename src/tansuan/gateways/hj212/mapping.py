"""From decoded HJ 212 packets to :class:`~tansuan.ingest.reading.Reading` values.

The site model holds each data logger as ``Connection(protocol="hj212", mn, password)``
and maps pollutant codes to points with ``Hj212Address(connection, code, field)``.

Which upload feeds which point
------------------------------
A logger sends the same pollutant in several uploads: real-time (CN 2011, ``Rtd``),
minute (2051), hourly (2061) and daily (2031) statistics (``Avg``, ``Min``, ``Max``,
``Cou``), equipment status (2021 ``RS``) and daily running time (2041 ``RT``). A point
takes exactly **one** of them, so a minute average and an hourly average never land on
the same (point, timestamp):

* ``field`` ``Rtd``/``ZsRtd`` → real-time uploads (2011);
* ``field`` ``RS`` → 2011 or 2021; ``RT`` → 2041;
* a statistic (``Avg``, ``Min``, ``Max``, ``Cou``, ``ZsAvg`` …) → the upload whose
  interval is the point's ``interval_s``: 60–1800 s → minute (2051), 3600 s → hourly
  (2061), 86400 s → daily (2031);
* ``field`` not given → by ``interval_s``: as above with ``Avg``, and any other
  interval (e.g. 30 s) → real-time ``Rtd``.

Timestamps
----------
``DataTime`` is local time at the site (``Site.timezone``, default Asia/Shanghai) and is
converted to UTC. For 2011 it is the sampling instant. For 2051/2061/2031 it is the
**start** of the interval (HJ 212-2017 §6.3.3) and the reading is stamped with that start,
so a minute/hour/day value falls in the hour/day it describes when rolled up.

Quality
-------
``<code>-Flag`` (N F M S D C T B, HJ 212-2017 Table 8) becomes ``Reading.quality``;
absent means ``N``. A value whose flag is not one of these, or whose number does not
parse, is skipped and counted (``tansuan_hj212_errors_total{reason="value"}``).
Values arrive in the unit the logger sends (HJ 212 Table B.2 defaults, e.g. a05001
mg/m3, a00000 m3/s); ``Reading.unit`` is left ``None``, so a point's canonical unit
must be the unit its logger sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from tansuan.errors import ConfigError
from tansuan.gateways.base import COUNTERS
from tansuan.gateways.hj212.codec import Cp, DataTimeError, MnError, PasswordError, parse_number
from tansuan.ingest.reading import QUALITY_FLAGS, Reading
from tansuan.site.model import SiteModel

REALTIME, MINUTE, HOURLY, DAILY, STATUS, RUNTIME = "2011", "2051", "2061", "2031", "2021", "2041"
#: Uploads that carry readings.
DATA_CNS = frozenset({REALTIME, MINUTE, HOURLY, DAILY, STATUS, RUNTIME})
_INSTANT_FIELDS = frozenset({"Rtd", "ZsRtd"})
_UTC = dt.UTC


def upload_for_interval(interval_s: int) -> str:
    """The CN whose statistics match a point's interval [s] (2011 when none does)."""
    if interval_s == 86400:
        return DAILY
    if interval_s == 3600:
        return HOURLY
    if 60 <= interval_s <= 1800 and interval_s % 60 == 0:
        return MINUTE
    return REALTIME


@dataclass(frozen=True, slots=True)
class Route:
    """One point fed by one pollutant code of one logger."""

    point: str
    field: str | None  # None: chosen by the upload (Rtd for 2011, Avg otherwise)
    cn: tuple[str, ...]  # the uploads that feed the point

    def select(self, cn: str) -> str | None:
        """The CP field this point takes from an upload ``cn``, or None."""
        if cn not in self.cn:
            return None
        if self.field is not None:
            return self.field
        return "Rtd" if cn == REALTIME else "Avg"


@dataclass(frozen=True)
class Logger:
    """An authenticated HJ 212 data logger and the points it feeds."""

    site: str
    connection: str
    mn: str
    password: str
    timezone: ZoneInfo
    routes: Mapping[str, tuple[Route, ...]] = field(default_factory=dict)


def _route(point_id: str, field_name: str | None, interval_s: int) -> Route:
    if field_name in _INSTANT_FIELDS:
        return Route(point_id, field_name, (REALTIME,))
    if field_name == "RS":
        return Route(point_id, field_name, (REALTIME, STATUS))
    if field_name == "RT":
        return Route(point_id, field_name, (RUNTIME,))
    cn = upload_for_interval(interval_s)
    if field_name is not None and cn == REALTIME:
        raise ConfigError(
            f"point {point_id!r} asks for HJ 212 field {field_name} but its interval_s "
            f"{interval_s} matches no minute (60–1800 s), hourly (3600) or daily (86400) upload",
            field="protocol.hj212.field",
        )
    return Route(point_id, field_name, (cn,))


class Directory:
    """MN → :class:`Logger`, built once from the site model."""

    def __init__(self, loggers: Mapping[str, Logger]) -> None:
        self._by_mn = {mn.upper(): logger for mn, logger in loggers.items()}

    @classmethod
    def from_site_models(cls, models: Iterable[SiteModel]) -> Directory:
        """One directory over several organisations' models (``tansuan serve``)."""
        merged: dict[str, Logger] = {}
        for model in models:
            merged.update(cls.from_site_model(model)._by_mn)
        return cls(merged)

    @classmethod
    def from_site_model(cls, model: SiteModel) -> Directory:
        loggers: dict[str, Logger] = {}
        for site in model.sites():
            routes: dict[str, dict[str, list[Route]]] = {}
            for _, device in site.iter_devices():
                for point in device.points:
                    address = point.protocol.hj212
                    if address is None:
                        continue
                    explicit = address.field if "field" in address.model_fields_set else None
                    route = _route(point.id, explicit, point.interval_s)
                    by_code = routes.setdefault(address.connection, {})
                    by_code.setdefault(address.code, []).append(route)
            for conn in site.connections:
                if conn.protocol != "hj212" or not conn.mn:
                    continue
                key = conn.mn.upper()
                if key in loggers:
                    raise ConfigError(
                        f"HJ 212 MN {conn.mn} is used by two connections", field="connections"
                    )
                loggers[key] = Logger(
                    site=site.id,
                    connection=conn.id,
                    mn=conn.mn,
                    password=conn.password or "",
                    timezone=ZoneInfo(site.timezone),
                    routes={code: tuple(rs) for code, rs in routes.get(conn.id, {}).items()},
                )
        return cls(loggers)

    def __len__(self) -> int:
        return len(self._by_mn)

    def authenticate(self, mn: str | None, pw: str | None) -> Logger:
        """The logger with this MN if the password matches; else MnError/PasswordError."""
        if not mn:
            raise MnError("packet has no MN")
        logger = self._by_mn.get(mn.upper())
        if logger is None:
            raise MnError(f"MN {mn} is not a data logger in the site model")
        if pw != logger.password:
            raise PasswordError(f"wrong PW for MN {mn}")
        return logger


def local_to_utc(data_time: str | None, tz: ZoneInfo) -> dt.datetime:
    """``YYYYMMDDhhmmss`` (optionally ``zzz`` ms) in the site's zone → aware UTC."""
    if data_time is None:
        raise DataTimeError("upload has no DataTime")
    return _local_to_utc(data_time, tz)


@lru_cache(maxsize=4096)  # loggers of a site share their DataTimes
def _local_to_utc(data_time: str, tz: ZoneInfo) -> dt.datetime:
    s = data_time
    if not (s.isascii() and s.isdigit()) or len(s) not in (14, 17):
        raise DataTimeError(f"DataTime={s[:20]!r} is not YYYYMMDDhhmmss")
    try:
        local = dt.datetime(
            int(s[0:4]),
            int(s[4:6]),
            int(s[6:8]),
            int(s[8:10]),
            int(s[10:12]),
            int(s[12:14]),
            int(s[14:] or 0) * 1000,
            tzinfo=tz,
        )
    except ValueError:
        raise DataTimeError(f"DataTime={s} is not a calendar time") from None
    return local.astimezone(_UTC)


def to_readings(logger: Logger, cn: str, cp: Cp) -> list[Reading]:
    """The readings an upload carries for this logger's points (possibly none)."""
    ts = local_to_utc(cp.data_time, logger.timezone)
    readings: list[Reading] = []
    unmapped = skipped = 0
    for code, fields in cp.values.items():
        routes = logger.routes.get(code)
        if not routes:
            unmapped += 1
            continue
        for route in routes:
            name = route.select(cn)
            if name is None or name not in fields:
                continue
            value = parse_number(fields[name])
            quality = "N" if name in ("RS", "RT") else fields.get("Flag", "N") or "N"
            if value is None or quality not in QUALITY_FLAGS:
                skipped += 1
                continue
            readings.append(Reading(logger.site, route.point, ts, value, None, quality))
    if unmapped:
        COUNTERS.inc("tansuan_hj212_unmapped_codes_total", unmapped)
    if skipped:
        COUNTERS.inc("tansuan_hj212_errors_total", skipped, reason="value")
    return readings
