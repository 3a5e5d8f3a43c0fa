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

A statistic upload of another interval is never dropped silently (:func:`to_readings`):
coarser than the point's (hourly data for a minute point) it is quarantined by ingest
(``interval_mismatch``) unless the point has its own upload; finer, it is counted.

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

Plausibility
------------
The CRC lets about 0.5 % of 2-bit corruptions through, so two checks that cost nothing
run on every upload (:class:`Checks`, window ``hj212_max_clock_skew_s``):

* a DataTime later than the host's clock plus the window is **refused**
  (:class:`~.codec.FutureDataTime`, answered 9011): the value cannot have been measured
  yet, and ingest would quarantine it after an acknowledgement;
* a DataTime later than the time in the packet's QN (``YYYYMMDDhhmmsszzz``, read in the
  site's zone) plus the window is **stored flagged** ``P`` (implausible,
  :data:`~tansuan.domain.quality.IMPLAUSIBLE`; left out of rollups like any invalid
  flag) and counted ``tansuan_hj212_implausible_total{check="qn"}``: one of the two
  times is wrong, and which one cannot be known, so the value is kept for audit.

A value outside its point's ``valid_range`` (not flagged ``T``) is counted
``tansuan_hj212_implausible_total{check="range"}`` and logged; ingest quarantines it
(``out_of_range``), where the quality page shows it.

Values arrive in the unit the logger sends (HJ 212 Table B.2 defaults, e.g. a05001
mg/m3, a00000 m3/s); ``Reading.unit`` is left ``None``, so a point's canonical unit
must be the unit its logger sends.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from tansuan.domain.quality import HJ212_FLAGS, IMPLAUSIBLE
from tansuan.errors import ConfigError
from tansuan.gateways.base import COUNTERS
from tansuan.gateways.hj212.codec import (
    Cp,
    DataTimeError,
    FutureDataTime,
    MnError,
    PasswordError,
    parse_number,
)
from tansuan.ingest.reading import Reading
from tansuan.site.model import SiteModel

log = logging.getLogger(__name__)

COUNTERS.describe(
    "tansuan_hj212_ignored_total",
    "HJ 212 values not stored because the point takes them from its own upload "
    "(finer_interval: a minute value for an hourly point; coarser_interval: an hourly "
    "value for a minute point that receives its minute uploads)",
)
COUNTERS.describe(
    "tansuan_hj212_implausible_total",
    "HJ 212 values that failed a plausibility check (qn: stored flagged P; range: quarantined)",
)

REALTIME, MINUTE, HOURLY, DAILY, STATUS, RUNTIME = "2011", "2051", "2061", "2031", "2021", "2041"
#: Uploads that carry readings.
DATA_CNS = frozenset({REALTIME, MINUTE, HOURLY, DAILY, STATUS, RUNTIME})
_INSTANT_FIELDS = frozenset({"Rtd", "ZsRtd"})
#: Uploads of statistics over an interval, and the interval each names.
_STATISTICS = {MINUTE: "minute", HOURLY: "hourly (3600 s)", DAILY: "daily (86400 s)"}
_NOT_STATISTICS = _INSTANT_FIELDS | {"RS", "RT"}
#: Uploads from the finest interval to the coarsest.
_FINENESS = {REALTIME: 0, STATUS: 0, MINUTE: 1, HOURLY: 2, DAILY: 3, RUNTIME: 3}
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
class Checks:
    """What an upload's DataTime is checked against: the host's clock and a window [s]."""

    now: dt.datetime  # aware
    max_clock_skew_s: float


@dataclass(frozen=True, slots=True)
class Route:
    """One point fed by one pollutant code of one logger."""

    point: str
    field: str | None  # None: chosen by the upload (Rtd for 2011, Avg otherwise)
    cn: tuple[str, ...]  # the uploads that feed the point
    valid_range: tuple[float, float] | None = None  # [min, max] of the point, if declared
    interval_s: int = 60  # the point's interval [s]

    def other_interval(self, cn: str) -> tuple[str, bool] | None:
        """For a statistic upload ``cn`` this point does not take: the CP field it would
        carry for the point and whether the upload's interval is coarser than the point's
        (hourly data for a minute point: True); None for any other upload."""
        if cn in self.cn or cn not in _STATISTICS or self.field in _NOT_STATISTICS:
            return None
        return self.field or "Avg", _FINENESS[cn] > _FINENESS[self.cn[0]]

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


def _route(
    point_id: str,
    field_name: str | None,
    interval_s: int,
    valid_range: tuple[float, float] | None = None,
) -> Route:
    if field_name in _INSTANT_FIELDS:
        return Route(point_id, field_name, (REALTIME,), valid_range, interval_s)
    if field_name == "RS":
        return Route(point_id, field_name, (REALTIME, STATUS), valid_range, interval_s)
    if field_name == "RT":
        return Route(point_id, field_name, (RUNTIME,), valid_range, interval_s)
    cn = upload_for_interval(interval_s)
    if field_name is not None and cn == REALTIME:
        raise ConfigError(
            f"point {point_id!r} asks for HJ 212 field {field_name} but its interval_s "
            f"{interval_s} matches no minute (60–1800 s), hourly (3600) or daily (86400) upload",
            field="protocol.hj212.field",
        )
    return Route(point_id, field_name, (cn,), valid_range, interval_s)


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
                    route = _route(point.id, explicit, point.interval_s, point.valid_range)
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
        # Year 1 east of UTC (or 9999 west of it) has no UTC: OverflowError.
        return local.astimezone(_UTC)
    except (ValueError, OverflowError):
        raise DataTimeError(f"DataTime={s} is not a calendar time") from None


#: Digits of a QN that carries its time: ``YYYYMMDDhhmmsszzz``.
_QN_TIME_DIGITS = 17


def qn_to_utc(qn: str | None, tz: ZoneInfo) -> dt.datetime | None:
    """The time a QN carries (``YYYYMMDDhhmmsszzz``, local), or None if it carries none."""
    if qn is None or len(qn) != _QN_TIME_DIGITS:
        return None
    try:
        return _local_to_utc(qn, tz)
    except DataTimeError:
        return None


def _check_time(ts: dt.datetime, logger: Logger, cp: Cp, qn: str | None, checks: Checks) -> bool:
    """Refuse a DataTime ahead of the clock; True when it is ahead of the QN (flag it)."""
    window = dt.timedelta(seconds=checks.max_clock_skew_s)
    ahead = (ts - checks.now).total_seconds()
    if ts > checks.now + window:
        raise FutureDataTime(
            f"DataTime={cp.data_time} is {ahead:.0f} s ahead of the host's clock "
            f"(at most {checks.max_clock_skew_s:g} s allowed)"
        )
    qn_ts = qn_to_utc(qn, logger.timezone)
    if qn_ts is not None and ts > qn_ts + window:
        COUNTERS.inc("tansuan_hj212_implausible_total", check="qn")
        log.warning(
            "hj212: MN=%s DataTime=%s is %.0f s after its QN=%s: values stored flagged %s",
            logger.mn,
            cp.data_time,
            (ts - qn_ts).total_seconds(),
            qn,
            IMPLAUSIBLE,
        )
        return True
    return False


def _interval_mismatch(
    logger: Logger, cn: str, route: Route, code: str, name: str
) -> tuple[str, str]:
    """The quarantine reason of a statistic upload for a point of another interval."""
    takes = "/".join(route.cn)
    log.warning(
        "hj212: MN=%s %s upload CN=%s %s-%s for point %s quarantined: the point's interval_s "
        "%d takes CN=%s; set interval_s to the upload's interval to store it",
        logger.mn, _STATISTICS[cn], cn, code[:20], name, route.point, route.interval_s, takes,
    )  # fmt: skip
    return (
        "interval_mismatch",
        f"HJ 212 CN={cn} 上传的间隔与测点 interval_s {route.interval_s} 不符 / "
        f"{_STATISTICS[cn]} upload CN={cn} {code[:20]}-{name} for a point of interval_s "
        f"{route.interval_s} (takes CN={takes}): set the point's interval_s to store it",
    )


def to_readings(
    logger: Logger,
    cn: str,
    cp: Cp,
    *,
    qn: str | None = None,
    checks: Checks | None = None,
    fed: set[tuple[str, str]] | None = None,
) -> list[Reading]:
    """The readings an upload carries for this logger's points (possibly none).

    With ``checks`` the DataTime is checked against the host's clock (refused when
    ahead, :class:`~.codec.FutureDataTime`) and against ``qn`` (values flagged
    :data:`~tansuan.domain.quality.IMPLAUSIBLE` when after it).

    A statistic upload of another interval than a point's is never dropped silently:

    * finer than the point's (a minute 2051 for an hourly point): the point's own, coarser
      upload carries that interval; counted
      ``tansuan_hj212_ignored_total{reason="finer_interval"}``;
    * coarser (an hourly 2061 for a point of ``interval_s`` 60, the default): if the
      point has received its own upload — ``fed`` holds the (site, point) pairs that have,
      kept by the caller and added to here — it is a second view of data the point has,
      counted ``tansuan_hj212_ignored_total{reason="coarser_interval"}``; otherwise the
      value is handed on with :attr:`~tansuan.ingest.reading.Reading.refused`
      ``interval_mismatch`` and logged: ingest quarantines it (the quality page shows
      it), the gateway counts it
      ``tansuan_hj212_quarantined_total{reason="interval_mismatch"}``.
    """
    ts = local_to_utc(cp.data_time, logger.timezone)
    implausible = checks is not None and _check_time(ts, logger, cp, qn, checks)
    readings: list[Reading] = []
    unmapped = skipped = ignored = finer = 0
    for code, fields in cp.values.items():
        routes = logger.routes.get(code)
        if not routes:
            unmapped += 1
            continue
        for route in routes:
            name = route.select(cn)
            refused: tuple[str, str] | None = None
            if name is None:
                other = route.other_interval(cn)
                if other is None or other[0] not in fields:
                    continue
                name, coarser = other
                if not coarser:
                    finer += 1
                    continue
                if fed is not None and (logger.site, route.point) in fed:
                    ignored += 1
                    continue
                refused = _interval_mismatch(logger, cn, route, code, name)
            elif name not in fields:
                continue
            elif fed is not None:
                fed.add((logger.site, route.point))
            value = parse_number(fields[name])
            quality = "N" if name in ("RS", "RT") else fields.get("Flag", "N") or "N"
            if value is None or quality not in HJ212_FLAGS:
                skipped += 1
                log.warning(
                    "hj212: MN=%s %s-%s=%r Flag=%r skipped: not a number or not an HJ 212 flag",
                    logger.mn,
                    code[:20],
                    name,
                    fields[name][:20],
                    quality[:4],
                )
                continue
            low_high = route.valid_range
            if low_high and quality != "T" and not low_high[0] <= value <= low_high[1]:
                COUNTERS.inc("tansuan_hj212_implausible_total", check="range")
                log.warning(
                    "hj212: MN=%s %s-%s=%g outside %s's valid_range [%g, %g] "
                    "(ingest quarantines it)",
                    logger.mn,
                    code,
                    name,
                    value,
                    route.point,
                    low_high[0],
                    low_high[1],
                )
            if implausible:
                quality = IMPLAUSIBLE
            readings.append(Reading(logger.site, route.point, ts, value, None, quality, refused))
    if ignored:
        COUNTERS.inc("tansuan_hj212_ignored_total", ignored, reason="coarser_interval")
    if finer:
        COUNTERS.inc("tansuan_hj212_ignored_total", finer, reason="finer_interval")
    if unmapped:
        COUNTERS.inc("tansuan_hj212_unmapped_codes_total", unmapped)
    if skipped:
        COUNTERS.inc("tansuan_hj212_errors_total", skipped, reason="value")
    return readings
