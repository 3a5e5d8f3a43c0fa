"""Properties (Hypothesis): rollups equal a from-scratch recomputation after any ingest
order with corrections and late data; re-ingesting what is stored is a no-op."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import INVALID_FLAGS
from tansuan.site.model import SiteModel
from tansuan.store import Store, batch_rows
from tansuan.store.timeutil import HOUR_US, local_day
from tests.conftest import DEFAULT_POINTS, pg_url, site_document

T0_US = 1_793_491_200_000_000  # 2026-11-01T00:00:00Z
POINTS = {"energy": ("total_increasing", 1000.0), "power": ("instantaneous", None),
          "fuel": ("total", None)}  # fmt: skip
TZ = "Asia/Shanghai"


@contextlib.contextmanager
def fresh_store(engine: str) -> Iterator[Store]:
    model = SiteModel.model_validate(site_document(DEFAULT_POINTS))
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            store = Store(f"sqlite:///{Path(folder) / 's.db'}")
            store.load_model(model)
            yield store
            store.close()
        return
    from sqlalchemy import create_engine

    base = pg_url()
    assert base
    schema = f"h_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    store = Store(f"{base}?options=-csearch_path%3D{schema}")
    try:
        store.load_model(model)
        yield store
    finally:
        store.close()
        with admin.begin() as c:
            c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


# A reading: (point, minute offset, value, quality). Minutes span the local midnight
# (16:00 UTC) so day buckets are cut in the site's zone; counter values wrap at 1000.
reading = st.tuples(
    st.sampled_from(sorted(POINTS)),
    st.integers(0, 40).map(lambda k: 900 + k * 7),
    st.sampled_from([0.0, 5.0, 20.0, 400.0, 990.0, 995.0, 999.0, 10.0]),
    st.sampled_from("NNNND"),
)
batches = st.lists(st.lists(reading, min_size=1, max_size=12), min_size=1, max_size=8)


def expected_state(sent: list[list[tuple]]) -> dict[tuple[str, int], tuple[float, str]]:
    """Final stored value per (point, ts): later batches win; inside a batch the first
    occurrence wins (a conflicting repeat is rejected)."""
    state: dict[tuple[str, int], tuple[float, str]] = {}
    for batch in sent:
        seen: set[tuple[str, int]] = set()
        for point, minute, value, flag in batch:
            key = (point, T0_US + minute * 60_000_000)
            if key in seen:
                continue
            seen.add(key)
            state[key] = (value, flag)
    return state


def recompute(state: dict[tuple[str, int], tuple[float, str]]) -> dict[str, dict]:
    """Rollups from scratch, by plain loops over the final readings (the documented rules)."""
    out: dict[str, dict] = {"hour": {}, "day": {}}
    for point, (kind, rollover) in POINTS.items():
        previous = None
        for ts in sorted(ts for p, ts in state if p == point):
            value, flag = state[(point, ts)]
            valid = flag not in INVALID_FLAGS
            delta, reset = 0.0, 0
            if valid and kind == "total":
                delta = value
            if valid and kind == "total_increasing":
                if previous is not None:
                    delta = value - previous
                    if delta < 0:
                        reset = 1
                        wrapped = (rollover or 0) - previous + value
                        delta = wrapped if rollover and 0 <= wrapped <= 0.1 * rollover else 0.0
                previous = value
            for table, bucket in (("hour", ts // HOUR_US * HOUR_US), ("day", local_day(ts, TZ))):
                b = out[table].setdefault(
                    (point, bucket),
                    {"n": 0, "n_valid": 0, "sum": None, "min": None, "max": None,
                     "first": None, "last": None, "delta": None, "resets": 0},
                )  # fmt: skip
                b["n"] += 1
                b["resets"] += reset
                if kind != "instantaneous":
                    b["delta"] = (b["delta"] or 0.0) + delta
                if valid:
                    b["n_valid"] += 1
                    b["sum"] = (b["sum"] or 0.0) + value
                    b["min"] = value if b["min"] is None else min(b["min"], value)
                    b["max"] = value if b["max"] is None else max(b["max"], value)
                    b["first"] = value if b["first"] is None else b["first"]
                    b["last"] = value
    return out


def stored_rollups(store: Store) -> dict[str, dict]:
    out: dict[str, dict] = {}
    with store.read() as connection:
        for table, column in (("hour", "hour_us"), ("day", "day")):
            rows = connection.exec_driver_sql(
                f"SELECT p.key, r.{column}, r.n, r.n_valid, r.sum, r.min, r.max, r.first, "
                f"r.last, r.delta, r.resets FROM rollup_{table} r JOIN point p ON p.id = r.point_id"
            )
            out[table] = {
                (r[0], r[1]): dict(
                    zip(
                        ("n", "n_valid", "sum", "min", "max", "first", "last", "delta", "resets"),
                        r[2:],
                        strict=True,
                    )
                )
                for r in rows
            }
    return out


def assert_same(got: dict[str, dict], want: dict[str, dict]) -> None:
    for table in ("hour", "day"):
        assert got[table].keys() == want[table].keys(), table
        for key, expected in want[table].items():
            actual = got[table][key]
            for name, value in expected.items():
                if isinstance(value, float):
                    assert actual[name] == pytest.approx(value, abs=1e-9), (table, key, name)
                else:
                    assert actual[name] == value, (table, key, name)


def check(engine: str, sent: list[list[tuple]]) -> None:
    with fresh_store(engine) as store:
        hooked: list[int] = []

        def ledger(connection, batch_id, rows) -> None:  # what the ledger will hash
            assert batch_rows(connection, batch_id) == rows.tuples()
            hooked.append(batch_id)

        # compact often to cross both paths
        ingestor = Ingestor(store, compact_rows=5, batch_hooks=[ledger])
        for batch in sent:
            ingestor.ingest_columns(
                "site",
                [p for p, _, _, _ in batch],
                [T0_US + m * 60_000_000 for _, m, _, _ in batch],
                [v for _, _, v, _ in batch],
                quality=[q for _, _, _, q in batch],
            )
        assert len(hooked) == len(sent)
        state = expected_state(sent)
        assert_same(stored_rollups(store), recompute(state))
        # Re-ingesting the final state changes nothing.
        before = stored_rollups(store)
        keys = sorted(state)
        again = Ingestor(store).ingest_columns(
            "site",
            [p for p, _ in keys],
            [ts for _, ts in keys],
            [state[k][0] for k in keys],
            quality=[state[k][1] for k in keys],
        )
        assert (again.new, again.versioned, again.duplicates) == (0, 0, len(keys))
        assert stored_rollups(store) == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sent=batches)
def test_rollups_match_recomputation_sqlite(sent: list[list[tuple]]) -> None:
    check("sqlite", sent)


@pytest.mark.postgres
@pytest.mark.skipif(not pg_url(), reason="PostgreSQL not configured: set TANSUAN_TEST_PG_URL")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sent=batches)
def test_rollups_match_recomputation_postgres(sent: list[list[tuple]]) -> None:
    check("postgres", sent)
