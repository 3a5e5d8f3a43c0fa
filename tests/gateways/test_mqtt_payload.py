"""The MQTT topic and payload scheme (tansuan.gateways.mqtt_payload): pure decoding."""

from __future__ import annotations

import datetime as dt

import pytest

from tansuan.gateways.mqtt_payload import Rejected, Route, TopicScheme, decode, parse_ts
from tansuan.site.model import SiteModel

RECEIVED = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def model() -> SiteModel:
    return SiteModel.model_validate(
        {
            "organisation": {
                "id": "g",
                "companies": [
                    {
                        "id": "c",
                        "sites": [
                            {
                                "id": "plant",
                                "areas": [
                                    {
                                        "id": "shop",
                                        "devices": [
                                            {
                                                "id": "fan",
                                                "class": "fan",
                                                "points": [
                                                    {
                                                        "id": "fan.power",
                                                        "quantity": "power",
                                                        "unit": "kW",
                                                    },
                                                    {
                                                        "id": "m7.power",
                                                        "quantity": "power",
                                                        "unit": "kW",
                                                        "protocol": {
                                                            "mqtt": {"topic": "line1/m7/p"}
                                                        },
                                                    },
                                                ],
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        }
    )


def test_routes_native_batch_mapped_and_service_topics() -> None:
    scheme = TopicScheme("tansuan", model())
    assert scheme.route("tansuan/plant/fan.power") == Route("plant", "fan.power")
    assert scheme.route("tansuan/plant") == Route("plant", None)
    assert scheme.route("line1/m7/p") == Route("plant", "m7.power")
    assert scheme.route("tansuan/_rejected") is None
    assert scheme.subscriptions() == ["tansuan/#", "line1/m7/p"]


@pytest.mark.parametrize(
    ("topic", "code"),
    [
        ("other/plant/fan.power", "topic.unknown"),
        ("tansuan/plant/fan/power", "topic.shape"),
        ("tansuan/plant/", "topic.shape"),
        ("tansuan/nowhere/fan.power", "site.unknown"),
        ("tansuan/plant/no.such", "point.unknown"),
    ],
)
def test_bad_topics_are_rejected_with_their_reason(topic: str, code: str) -> None:
    with pytest.raises(Rejected) as caught:
        TopicScheme("tansuan", model()).route(topic)
    assert caught.value.issue.code == code


def test_without_a_model_any_site_and_point_pass_to_ingest() -> None:
    assert TopicScheme("tansuan").route("tansuan/x/y") == Route("x", "y")


def test_object_number_and_list_payloads() -> None:
    """+08:00 local 08:00 is 00:00 UTC; 1714521600 s is 2024-05-01T00:00:00Z."""
    scheme = TopicScheme("tansuan")
    route = Route("plant", "fan.power")
    one = decode(
        route,
        b'{"value": 21.5, "unit": "W", "ts": "2024-05-01T08:00:00+08:00", "quality": "M"}',
        scheme,
        RECEIVED,
    )
    assert [(r.point, r.ts, r.value, r.unit, r.quality) for r in one] == [
        ("fan.power", dt.datetime(2024, 5, 1, tzinfo=dt.UTC), 21.5, "W", "M")
    ]
    bare = decode(route, b"7", scheme, RECEIVED)
    assert (bare[0].value, bare[0].ts, bare[0].quality) == (7.0, RECEIVED, "N")
    many = decode(
        route,
        b'[{"value": 1, "ts": 1714521600}, {"value": 2, "ts": "2024-05-01T00:01:00Z"}]',
        scheme,
        RECEIVED,
    )
    assert [(r.ts.isoformat(), r.value) for r in many] == [
        ("2024-05-01T00:00:00+00:00", 1.0),
        ("2024-05-01T00:01:00+00:00", 2.0),
    ]


def test_batch_payload_names_points() -> None:
    scheme = TopicScheme("tansuan", model())
    readings = decode(
        Route("plant", None),
        b'[{"point": "fan.power", "value": 3}, {"point": "m7.power", "value": 4}]',
        scheme,
        RECEIVED,
    )
    assert [(r.site, r.point, r.value) for r in readings] == [
        ("plant", "fan.power", 3.0),
        ("plant", "m7.power", 4.0),
    ]


@pytest.mark.parametrize(
    ("route", "payload", "code", "path"),
    [
        (Route("plant", "fan.power"), b"{nope", "payload.json", "$"),
        (Route("plant", "fan.power"), b"[]", "payload.empty", "$"),
        (Route("plant", "fan.power"), b'"hot"', "payload.shape", "$"),
        (Route("plant", "fan.power"), b'{"value": "1"}', "value.type", "$.value"),
        (Route("plant", "fan.power"), b'{"value": true}', "value.type", "$.value"),
        (Route("plant", "fan.power"), b'{"value": null}', "value.type", "$.value"),
        (Route("plant", "fan.power"), b'{"value": 1, "colour": 2}', "payload.field", "$"),
        (
            Route("plant", "fan.power"),
            b'{"value": 1, "quality": "X"}',
            "quality.unknown",
            "$.quality",
        ),
        (
            Route("plant", "fan.power"),
            b'{"value": 1, "ts": "2024-05-01T08:00:00"}',
            "ts.naive",
            "$.ts",
        ),
        (Route("plant", "fan.power"), b'{"value": 1, "ts": "yesterday"}', "ts.format", "$.ts"),
        (Route("plant", "fan.power"), b'{"value": 1, "ts": 1714521600000}', "ts.range", "$.ts"),
        (Route("plant", "fan.power"), b'{"value": 1, "unit": 5}', "unit.type", "$.unit"),
        (
            Route("plant", "fan.power"),
            b'[{"value": 1}, {"value": "x"}]',
            "value.type",
            "$[1].value",
        ),
        (
            Route("plant", "fan.power"),
            b'{"value": 1, "point": "m7.power"}',
            "point.mismatch",
            "$.point",
        ),
        (Route("plant", None), b"[1]", "payload.shape", "$[0]"),
        (Route("plant", None), b'[{"value": 1}]', "point.missing", "$[0].point"),
        (Route("plant", None), b'[{"point": "zz", "value": 1}]', "point.unknown", "$[0].point"),
    ],
)
def test_bad_payloads_reject_the_whole_message(
    route: Route, payload: bytes, code: str, path: str
) -> None:
    with pytest.raises(Rejected) as caught:
        decode(route, payload, TopicScheme("tansuan", model()), RECEIVED)
    assert (caught.value.issue.code, caught.value.issue.path) == (code, path)


def test_too_many_readings_in_one_message() -> None:
    with pytest.raises(Rejected) as caught:
        decode(
            Route("plant", "fan.power"), b"[1, 2, 3]", TopicScheme("t"), RECEIVED, max_readings=2
        )
    assert caught.value.issue.code == "payload.too_many"


def test_missing_ts_is_the_receipt_time() -> None:
    assert parse_ts(None, "ts", RECEIVED) is RECEIVED


@pytest.mark.parametrize("topic", ["line1/+/p", "line1/#"])
def test_mapped_topics_must_be_exact(topic: str) -> None:
    from tansuan.errors import ConfigError

    data = model().model_dump(mode="json", by_alias=True)
    device = data["organisation"]["companies"][0]["sites"][0]["areas"][0]["devices"][0]
    device["points"][1]["protocol"]["mqtt"]["topic"] = topic
    with pytest.raises(ConfigError, match="must be exact"):
        TopicScheme("tansuan", SiteModel.model_validate(data))
