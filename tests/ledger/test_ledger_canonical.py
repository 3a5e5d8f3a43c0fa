"""Canonical serialisation: stable bytes, refused input, lossless readings records."""

from __future__ import annotations

import datetime as dt
import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@given(ref=st.text(max_size=20), number=st.floats(allow_nan=False, allow_infinity=False))
def test_envelope_fast_path_equals_json_for_any_ref(ref: str, number: float) -> None:
    payload = {"x": number, "ref": ref}
    assert canonical.envelope("grant", ref, canonical.payload_text(payload)) == (
        canonical.canonical_json({"kind": "grant", "payload": payload, "ref": ref, "v": 1})
    )
    assert float(json.loads(canonical.payload_text(payload))["x"]) == number


def test_duplicate_keys_still_give_one_canonical_order() -> None:
    """Two rows with the same (site, point, ts, version) but different values: the record
    must not depend on which came first."""
    a = ("s1", "p1", T0, 1.5, "N", 1)
    b = ("s1", "p1", T0, -2.0, "N", 1)
    c = ("s1", "p0", T0, 9.0, "M", 2)
    assert canonical.encode_readings([a, b, c]) == canonical.encode_readings([c, b, a])
    d = ("s1", "p2", T0, 0.5, "N", 1)  # rows already in key order, the tie either way
    assert canonical.encode_readings([a, b, d]) == canonical.encode_readings([b, a, d])
    records = canonical.decode_readings(canonical.encode_readings([a, b, c]))
    assert [(r.point, r.value, r.quality, r.version) for r in records] == [
        ("p0", 9.0, "M", 2),
        ("p1", -2.0, "N", 1),
        ("p1", 1.5, "N", 1),
    ]


def test_typical_batch_takes_eleven_bytes_a_reading() -> None:
    """1,000 points × 10 instants, one site/quality/version: 2-byte point index + 1-byte
    instant index + 8-byte value = 11 bytes a reading, plus the dictionaries."""
    rows = [
        ("s1", f"point-{p:04d}", T0 + dt.timedelta(minutes=m), float(p), "N", 1)
        for m in range(10)
        for p in range(1000)
    ]
    body = canonical.encode_readings(rows)
    dictionaries = 8 + 4 + (4 + 2 + 2) + (4 + 1000 * (2 + 10)) + (4 + 10 * 8) + (4 + 2 + 1) + 8
    assert len(body) == dictionaries + 10_000 * 11
    assert len(canonical.decode_readings(body)) == 10_000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["s1", "s2", "站点"]),
            st.sampled_from(["p1", "p2", "p3", "温度"]),
            st.integers(0, 5),
            st.floats(allow_nan=False, allow_infinity=False, width=64),
            st.sampled_from(["N", "D", "C"]),
            st.integers(1, 3),
        ),
        max_size=40,
    )
)
def test_columns_encode_exactly_like_rows(raw: list[tuple]) -> None:
    """The ingest hook's column form gives the same bytes as the row form the verifier uses."""
    import numpy as np

    from tansuan.ledger.canonical import encode_columns, encode_readings

    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [(s, p, t0 + dt.timedelta(minutes=m), v, q, n) for s, p, m, v, q, n in raw]
    columns = encode_columns(
        [r[0] for r in raw],
        [r[1] for r in raw],
        np.array([1767225600_000_000 + m * 60_000_000 for _, _, m, _, _, _ in raw], np.int64),
        np.array([r[3] for r in raw], np.float64),
        [r[4] for r in raw],
        np.array([r[5] for r in raw], np.int64),
    )
    assert columns == encode_readings(rows)
