"""The ingest hook's fast path: records built from ingest's integer point codes.

The ingestor hands the ledger catalog entry numbers, not strings; the record must be
byte-for-byte the one the verifier rebuilds from the store's rows, and tampering with
the real ``reading`` tables must still be named reading by reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from tansuan.errors import InputError
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.result import BatchRows, PointCodes
from tansuan.ledger import canonical
from tansuan.ledger.log import Ledger
from tansuan.ledger.sources import LiveSource
from tansuan.ledger.verify import Outcome, verify_source
from tansuan.platform import ledger_batch_hook
from tansuan.site.model import SiteModel
from tansuan.store import Store, batch_rows, reading_batch_ids

T0_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
MINUTE_US = 60_000_000

KEYS = st.sampled_from(["s1", "s2", "站点", "b", "a-long-site-name"])
POINTS = st.sampled_from(["p1", "p2", "p10", "温度", "Z", "z", ""])


@settings(max_examples=80, deadline=None)
@given(
    catalog=st.lists(st.tuples(KEYS, POINTS), min_size=1, max_size=12),
    picks=st.lists(
        st.tuples(
            st.integers(0, 11),
            st.integers(0, 6),
            st.floats(allow_nan=False, allow_infinity=False, width=64),
            st.sampled_from(["N", "D", "C", "T"]),
            st.integers(1, 3),
        ),
        max_size=50,
    ),
    cut=st.integers(0, 50),
)
def test_coded_records_equal_row_records(
    catalog: list[tuple[str, str]], picks: list[tuple], cut: int
) -> None:
    """Any catalog (duplicate keys across sites, non-ASCII, ids out of key order), any row
    order, quality split into parts: the same bytes as the row form the verifier uses."""
    entry = np.array([i % len(catalog) for i, *_ in picks], dtype=np.int64)
    site_keys = [s for s, _ in catalog]
    point_keys = [p for _, p in catalog]
    quality = [q for *_, q, _ in picks]
    coded = canonical.encode_coded(
        entry,
        canonical.key_table(site_keys, point_keys),
        np.array([T0_US + m * MINUTE_US for _, m, _, _, _ in picks], dtype=np.int64),
        np.array([v for _, _, v, _, _ in picks], dtype=np.float64),
        [quality[:cut], quality[cut:]],
        np.array([n for *_, n in picks], dtype=np.int64),
    )
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [
        (site_keys[e], point_keys[e], t0 + dt.timedelta(minutes=m), v, q, n)
        for e, (_, m, v, q, n) in zip(entry.tolist(), picks, strict=True)
    ]
    assert coded == canonical.encode_readings(rows)
    assert coded == canonical.encode_readings(rows[::-1])  # duplicates of a key included


def test_key_tables_are_cached_per_catalog_and_codes_are_checked() -> None:
    sites, points = ["s1", "s1"], ["b", "a"]
    table = canonical.key_table(sites, points)
    assert canonical.key_table(sites, points) is table
    assert canonical.key_table(list(sites), list(points)) is not table  # a new catalog
    one = np.ones(1, dtype=np.int64)
    with pytest.raises(InputError, match="outside the key table"):
        canonical.encode_coded(one * 2, table, one * T0_US, one * 1.0, [["N"]], one)
    with pytest.raises(InputError, match="differ in length"):
        canonical.key_table(["s1"], ["a", "b"])
    with pytest.raises(InputError, match="longer than 65535 bytes"):
        canonical.key_table(["s1"], ["x" * 70_000])


def test_batch_rows_from_codes_materialise_the_same_strings() -> None:
    """What other hooks (accounting) read is unchanged: strings built on first use."""
    codes = PointCodes(np.array([1, 0, 1]), ["s1", "s2"], ["a", "b"])
    ts = np.array([3, 1, 2], dtype=np.int64) * MINUTE_US + T0_US
    rows = BatchRows(
        codes=codes,
        ts_us=ts,
        value=np.array([1.0, 2.0, 3.0]),
        quality_parts=[["N"], ["D", "N"]],
        version=np.ones(3, dtype=np.int64),
    )
    assert (rows.site, rows.point, rows.quality, len(rows)) == (
        ["s2", "s1", "s2"],
        ["b", "a", "b"],
        ["N", "D", "N"],
        3,
    )
    plain = BatchRows(rows.site, rows.point, ts, rows.value, rows.quality, rows.version)
    assert plain.tuples() == rows.tuples()
    with pytest.raises(TypeError):
        BatchRows(ts_us=ts, value=rows.value, quality=["N"] * 3, version=rows.version)


def _model() -> SiteModel:
    """Two sites; the points are declared (and so numbered) against their key order."""

    def site(site_id: str, keys: list[str]) -> dict:
        points = [{"id": k, "quantity": "power", "unit": "kW"} for k in keys]
        devices = [{"id": "d", "class": "meter", "points": points}]
        return {"id": site_id, "areas": [{"id": "a", "devices": devices}]}

    sites = [site("site-b", ["z.flow", "m.power", "a.temp"]), site("site-a", ["m.power", "b.x"])]
    return SiteModel.model_validate(
        {"organisation": {"id": "org", "companies": [{"id": "co", "sites": sites}]}}
    )


@pytest.fixture
def logged_store(db_url: str, ledger: Ledger) -> Iterator[tuple[Store, Ingestor]]:
    store = Store(db_url)
    store.load_model(_model())
    yield store, Ingestor(store, batch_hooks=[ledger_batch_hook(ledger)])
    store.close()


def _verify(store: Store, ledger: Ledger) -> Outcome:
    ledger.issue_sth_now(store.engine)
    with store.read() as connection:
        source = LiveSource(connection, batch_rows, ledger.public_key, batch_ids=reading_batch_ids)
        return verify_source(source)


def test_real_ingest_records_match_the_store_and_tampering_is_named(
    logged_store: tuple[Store, Ingestor], ledger: Ledger
) -> None:
    """Batch 1: 5 points × 2 minutes, mixed flags. Batch 2 corrects site-b a.temp at
    minute 1 (2.5 → 7.25, version 2) and adds minute 2. Then SQL edits are named.

    The deleted a.temp reading (3.0 at 00:00, valid) also leaves its hour and day rollups
    disagreeing with the readings left: n 3 → 2, sum 3.0 + 7.25 + 8.0 = 18.25 → 15.25,
    min and first 3.0 → 7.25 at minute 1. The m.power reading changed to 99.5 has flag C
    (invalid): it is counted, not summed, so its rollups still hold."""
    store, ingestor = logged_store
    sites = ["site-b"] * 3 + ["site-a"] * 2
    points = ["z.flow", "m.power", "a.temp", "m.power", "b.x"]
    first = ingestor.ingest_columns(
        sites * 2,
        points * 2,
        [T0_US] * 5 + [T0_US + MINUTE_US] * 5,
        [1.0, 2.0, 3.0, 4.0, 5.0, 1.5, 2.25, 2.5, 4.5, 5.5],
        quality=["N", "D", "N", "C", "N", "N", "N", "N", "N", "M"],
    )
    second = ingestor.ingest_columns(
        ["site-b", "site-b"],
        ["a.temp", "a.temp"],
        [T0_US + MINUTE_US, T0_US + 2 * MINUTE_US],
        [7.25, 8.0],
    )
    again = ingestor.ingest_columns(  # nothing new: still a batch, still a leaf
        ["site-b"], ["a.temp"], [T0_US + 2 * MINUTE_US], [8.0]
    )
    assert (first.new, second.new, second.versioned, again.duplicates) == (10, 1, 1, 1)
    with store.read() as connection:
        empty = ledger.find_leaf(connection, "ingest_batch", str(again.batch_id))
        assert empty.body is not None and canonical.decode_readings(empty.body) == []
        for result in (first, second):
            assert result.batch_id is not None
            leaf = ledger.find_leaf(connection, "ingest_batch", str(result.batch_id))
            stored = batch_rows(connection, result.batch_id)
            assert leaf.body == canonical.encode_readings(stored)
    outcome = _verify(store, ledger)
    assert outcome.ok, outcome.findings
    assert outcome.readings == 12

    b1 = first.batch_id
    a_temp = "(SELECT id FROM point WHERE site_key = 'site-b' AND key = 'a.temp')"
    m_power = "(SELECT id FROM point WHERE site_key = 'site-a' AND key = 'm.power')"
    with store.engine.begin() as connection:
        tables = [t for t in ("reading", "reading_staging", "reading_version")]
        tables = [t for t in tables if sa.inspect(connection).has_table(t)]
        for table in tables:
            connection.exec_driver_sql(
                f"UPDATE {table} SET value = 99.5 WHERE batch_id = {b1} "
                f"AND point_id = {m_power} AND ts_us = {T0_US}"
            )
            connection.exec_driver_sql(
                f"DELETE FROM {table} WHERE batch_id = {b1} "
                f"AND point_id = {a_temp} AND ts_us = {T0_US}"
            )
    found = [f"{f.code}: {f.detail}" for f in _verify(store, ledger).findings]
    assert found == [
        "reading_changed: reading site=site-a point=m.power ts=2026-01-01T00:00:00Z "
        f"version=1: value changed 4.0 → 99.5 (batch {b1}, leaf 0)",
        "reading_removed: reading site=site-b point=a.temp ts=2026-01-01T00:00:00Z "
        f"version=1 removed (was 3.0) (batch {b1}, leaf 0)",
    ] + [
        f"rollup_changed: {table}, site site-b, point a.temp, {period}: stored → recomputed: "
        "n 3 → 2; n_valid 3 → 2; sum 18.25 → 15.25; min 3.0 → 7.25; "
        f"first_ts_us {T0_US} → {T0_US + MINUTE_US}; first 3.0 → 7.25"
        for table, period in (
            ("rollup_hour", "hour 2026-01-01T00:00Z"),
            ("rollup_day", "day 2026-01-01"),
        )
    ]
