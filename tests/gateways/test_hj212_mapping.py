"""From HJ 212 uploads to readings: which upload feeds which point, timestamps, flags."""

from __future__ import annotations

import datetime as dt

import pytest

from tansuan.errors import ConfigError
from tansuan.gateways.base import COUNTERS
from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.mapping import Directory, local_to_utc, to_readings
from tansuan.site.model import SiteModel

from .hj212_fixtures import PW, mn, site_model

UTC = dt.UTC


def cp(text: str) -> codec.Cp:
    return codec.parse_cp(text)


@pytest.fixture
def logger():  # type: ignore[no-untyped-def]
    return Directory.from_site_model(site_model(1)).authenticate(mn(0), PW)


def test_authentication() -> None:
    directory = Directory.from_site_model(site_model(2))
    assert directory.authenticate(mn(1), PW).connection == "logger-1"
    assert directory.authenticate(mn(1).lower(), PW).site == "plant"  # MN is hex: any case
    with pytest.raises(codec.MnError):
        directory.authenticate("99999999999999", PW)
    with pytest.raises(codec.MnError):
        directory.authenticate(None, PW)
    with pytest.raises(codec.PasswordError):
        directory.authenticate(mn(1), "654321")


def test_datatime_is_site_local_time() -> None:
    """Asia/Shanghai is UTC+8 all year: 2024-01-01 10:00 local = 02:00 UTC."""
    shanghai = Directory.from_site_model(site_model(1)).authenticate(mn(0), PW).timezone
    assert local_to_utc("20240101100000", shanghai) == dt.datetime(2024, 1, 1, 2, tzinfo=UTC)
    assert local_to_utc("20240101100000250", shanghai).microsecond == 250000
    for bad in (None, "2024010110", "20241301100000", "2024010110000x"):
        with pytest.raises(codec.DataTimeError):
            local_to_utc(bad, shanghai)


def test_realtime_upload_feeds_only_rtd_points(logger) -> None:  # type: ignore[no-untyped-def]
    readings = to_readings(
        logger,
        "2011",
        cp(
            "DataTime=20240101100005;a01012-Rtd=151.2,a01012-Flag=N;a05001-Rtd=80000,"
            "a05001-Flag=N;a00000-Rtd=5.2"
        ),
    )
    assert [(r.point, r.value, r.quality) for r in readings] == [("s0.temp", 151.2, "N")]
    assert readings[0].ts == dt.datetime(2024, 1, 1, 2, 0, 5, tzinfo=UTC)
    assert readings[0].site == "plant" and readings[0].unit is None


def test_minute_upload_feeds_minute_points_at_interval_start(logger) -> None:  # type: ignore[no-untyped-def]
    """2051: DataTime 10:01 local is the minute's start → 02:01 UTC."""
    readings = to_readings(
        logger,
        "2051",
        cp(
            "DataTime=20240101100100;a05001-Min=1,a05001-Avg=2,a05001-Max=3,a05001-Flag=C;"
            "a00000-Avg=5.331,a00000-Cou=319.86,a00000-Flag=N;a01012-Avg=150;a99999-Avg=1"
        ),
    )
    got = {(r.point, r.value, r.quality, r.ts) for r in readings}
    start = dt.datetime(2024, 1, 1, 2, 1, tzinfo=UTC)
    assert got == {("s0.co2", 2.0, "C", start), ("s0.flow", 5.331, "N", start)}


def test_hourly_upload_feeds_hourly_points(logger) -> None:  # type: ignore[no-untyped-def]
    """The hourly points take the 2061; the minute points' values (s0.co2 with the default
    interval_s 60, s0.flow) are not dropped silently: handed on refused
    ``interval_mismatch`` (ingest quarantines them) — no minute upload has fed them."""
    readings = to_readings(
        logger,
        "2061",
        cp(
            "DataTime=20240101100000;a00000-Avg=5.331,a00000-Cou=19191.973,a00000-Flag=N;"
            "a19001-Avg=8.5,a19001-Flag=M;a05001-Avg=2"
        ),
    )
    assert sorted((r.point, r.value, r.quality) for r in readings if r.refused is None) == [
        ("s0.flow.h", 19191.973, "N"),
        ("s0.o2.h", 8.5, "M"),
    ]
    refused = sorted((r.point, r.value, r.refused[0]) for r in readings if r.refused)
    assert refused == [
        ("s0.co2", 2.0, "interval_mismatch"),
        ("s0.flow", 5.331, "interval_mismatch"),
    ]
    assert all("interval_s 60" in r.refused[1] for r in readings if r.refused)


def test_a_coarser_upload_for_a_fed_point_is_ignored_and_counted(logger) -> None:  # type: ignore[no-untyped-def]
    """Once s0.co2 has had its minute upload, an hourly a05001-Avg is a second view of its
    data: not stored, not quarantined, counted ignored{coarser_interval}. A minute upload
    for an hourly point (s0.o2.h) is always such a second view: ignored{finer_interval}."""
    fed: set[tuple[str, str]] = set()
    coarser = COUNTERS.get("tansuan_hj212_ignored_total", reason="coarser_interval")
    finer = COUNTERS.get("tansuan_hj212_ignored_total", reason="finer_interval")
    minute = to_readings(
        logger, "2051", cp("DataTime=20240101100100;a05001-Avg=2;a19001-Avg=1"), fed=fed
    )
    assert [(r.point, r.refused) for r in minute] == [("s0.co2", None)]
    assert fed == {("plant", "s0.co2")}
    hourly = to_readings(logger, "2061", cp("DataTime=20240101100000;a05001-Avg=2"), fed=fed)
    assert hourly == []
    assert COUNTERS.get("tansuan_hj212_ignored_total", reason="coarser_interval") == coarser + 1
    assert COUNTERS.get("tansuan_hj212_ignored_total", reason="finer_interval") == finer + 1


def test_daily_upload_feeds_no_minute_or_hourly_point(logger) -> None:  # type: ignore[no-untyped-def]
    """A daily upload is coarser than every point here: nothing is stored, and the
    values are handed on refused (ingest quarantines them), never dropped."""
    readings = to_readings(logger, "2031", cp("DataTime=20240101000000;a05001-Avg=2;a19001-Avg=1"))
    assert [r.refused is not None for r in readings] == [True, True]


def test_bad_values_and_flags_are_skipped(logger) -> None:  # type: ignore[no-untyped-def]
    readings = to_readings(
        logger,
        "2051",
        cp("DataTime=20240101100100;a05001-Avg=abc;a00000-Avg=1,a00000-Flag=Z"),
    )
    assert readings == []
    readings = to_readings(logger, "2051", cp("DataTime=20240101100100;a05001-Avg=nan"))
    assert readings == []


def _one_point_model(point: dict[str, object]) -> SiteModel:
    return SiteModel.model_validate(
        {
            "organisation": {
                "id": "o",
                "companies": [
                    {
                        "id": "c",
                        "sites": [
                            {
                                "id": "s",
                                "connections": [
                                    {"id": "l", "protocol": "hj212", "mn": "AB", "password": "1"}
                                ],
                                "areas": [
                                    {
                                        "id": "a",
                                        "devices": [{"id": "d", "class": "x", "points": [point]}],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        }
    )


def test_a_statistic_on_a_point_with_no_matching_interval_is_a_config_error() -> None:
    model = _one_point_model(
        {
            "id": "p",
            "quantity": "q",
            "unit": "mg/m3",
            "interval_s": 30,
            "protocol": {"hj212": {"connection": "l", "code": "a05001", "field": "Avg"}},
        }
    )
    with pytest.raises(ConfigError, match="interval_s 30"):
        Directory.from_site_model(model)


def test_equipment_status_maps_when_a_point_asks() -> None:
    model = _one_point_model(
        {
            "id": "p",
            "quantity": "state",
            "unit": "dimensionless",
            "protocol": {"hj212": {"connection": "l", "code": "SB1", "field": "RS"}},
        }
    )
    logger = Directory.from_site_model(model).authenticate("AB", "1")
    readings = to_readings(logger, "2021", cp("DataTime=20240101100000;SB1-RS=2"))
    assert [(r.point, r.value, r.quality) for r in readings] == [("p", 2.0, "N")]


def test_duplicate_mn_is_a_config_error() -> None:
    model = site_model(1)
    data = model.model_dump(mode="json", by_alias=True)
    site = data["organisation"]["companies"][0]["sites"][0]
    site["connections"].append({**site["connections"][0], "id": "again"})
    with pytest.raises(ConfigError, match="two connections"):
        Directory.from_site_model(SiteModel.model_validate(data))
