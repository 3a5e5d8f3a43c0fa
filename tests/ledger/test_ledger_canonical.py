"""Canonical serialisation: stable bytes, refused input, lossless readings records."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from tansuan.errors import InputError
from tansuan.ledger import canonical

from .readings_table import T0, make_rows


def test_canonical_json_sorts_keys_and_writes_shortest_floats() -> None:
    """0.1 + 0.2 is 0.30000000000000004 in binary64; repr keeps all 17 digits needed."""
    doc = {"b": 0.1 + 0.2, "a": [1, 2.5, True, None], "c": "碳", "d": T0}
    assert (
        canonical.canonical_json(doc)
        == (
            '{"a":[1,2.5,true,null],"b":0.30000000000000004,"c":"碳","d":1767225600000000}'
        ).encode()
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, b"raw", dt.datetime(2026, 1, 1)])
def test_non_canonical_values_are_refused(bad: object) -> None:
    with pytest.raises(InputError):
        canonical.canonical_json({"x": bad})


def test_envelope_equals_canonical_json_of_the_whole_leaf() -> None:
    payload = {"sha256": "ab" * 32, "report_id": "r-1"}
    text = canonical.payload_text(payload)
    assert canonical.envelope("report", "r-1", text) == canonical.canonical_json(
        {"kind": "report", "ref": "r-1", "payload": payload, "v": 1}
    )
    with pytest.raises(InputError, match="unknown leaf kind"):
        canonical.envelope("gossip", "x", text)


def test_readings_record_is_order_independent_and_lossless() -> None:
    rows = make_rows(batch=3, n_points=5, n_steps=7)
    shuffled = list(rows)
    random.Random(1).shuffle(shuffled)
    body = canonical.encode_readings(rows)
    assert canonical.encode_readings(shuffled) == body
    records = canonical.decode_readings(body)
    expected = sorted((s, p, canonical.ts_us(t), v, q, ver) for s, p, t, v, q, ver in rows)
    assert [tuple(r) for r in records] == sorted(
        expected, key=lambda r: (r[0], r[1], r[2], r[5], r[3], r[4])
    )
    assert canonical.decode_readings(canonical.encode_readings([])) == []


def test_readings_record_refuses_bad_rows() -> None:
    good = make_rows(batch=0, n_points=1, n_steps=1)[0]
    naive = (good[0], good[1], good[2].replace(tzinfo=None), *good[3:])
    with pytest.raises(InputError):
        canonical.encode_readings([good, naive])
    with pytest.raises(InputError, match="NaN"):
        canonical.encode_readings([(*good[:3], math.nan, *good[4:])])
    with pytest.raises(InputError):
        canonical.decode_readings(b"not a record")


def test_timestamps_are_integer_microseconds_utc() -> None:
    """2026-01-01T08:00:00+08:00 is 2026-01-01T00:00:00Z = 1 767 225 600 s after the epoch."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert canonical.ts_us(dt.datetime(2026, 1, 1, 8, tzinfo=shanghai)) == 1_767_225_600_000_000
    assert canonical.us_to_iso(1_767_225_600_000_001) == "2026-01-01T00:00:00.000001Z"
