"""Counter resets and rollovers never produce phantom energy."""

from __future__ import annotations

import datetime as dt

import numpy as np

from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.store.queries import series
from tansuan.store.rollups import INSTANTANEOUS, TOTAL, TOTAL_INCREASING, meter_deltas

T0 = dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)


def test_reset_and_rollover_in_one_hour(store) -> None:
    """Point 'energy' has rollover 1000 (register maximum).

    Readings 900, 950, 990, 20, 40, 5, 15 (one per minute):
      900 -> first reading, 0
      950 -> +50, 990 -> +40
      20  -> rollover: 1000 - 990 + 20 = 30 (wrap 30 <= 10 % of 1000)
      40  -> +20
      5   -> decrease whose wrap (1000 - 40 + 5 = 965) is not plausible: a reset, 0
      15  -> +10
    Total consumption 50 + 40 + 30 + 20 + 0 + 10 = 150 kWh, 2 resets/rollovers.
    A naive "last - first" would say 15 - 900 = -885; a naive sum of positive steps
    without the rollover rule would invent nothing but lose 30; treating the reset as a
    rollover would invent 965 kWh of phantom energy.
    """
    values = [900, 950, 990, 20, 40, 5, 15]
    Ingestor(store).ingest(
        [Reading("site", "energy", T0 + dt.timedelta(minutes=i), v) for i, v in enumerate(values)]
    )
    with store.read() as connection:
        hour = series(connection, "site", "energy", T0, T0 + dt.timedelta(hours=1), "hour")[0]
        day = series(connection, "site", "energy", T0, T0 + dt.timedelta(hours=1), "day")[0]
    assert hour["delta"] == 150.0
    assert hour["resets"] == 2
    assert day["delta"] == 150.0


def test_reset_across_batches_and_late_reading_keeps_no_phantom_energy(store) -> None:
    """Same readings as above, sent one by one in a scrambled order (late data).

    The final stored series is the same, so the consumption must again be 150 kWh.
    """
    values = [900, 950, 990, 20, 40, 5, 15]
    ingestor = Ingestor(store)
    for i in (0, 1, 3, 2, 6, 4, 5):
        ingestor.ingest([Reading("site", "energy", T0 + dt.timedelta(minutes=i), values[i])])
    with store.read() as connection:
        hour = series(connection, "site", "energy", T0, T0 + dt.timedelta(hours=1), "hour")[0]
    assert hour["delta"] == 150.0
    assert hour["resets"] == 2


def test_meter_deltas_by_kind() -> None:
    """Two groups: a counter (rows 0-2 at t = 10, 20, 30, previous valid value 10 at t = 5)
    and a total (rows 3-4 at t = 10, 20, no previous reading)."""
    delta, start, reset = meter_deltas(
        group=np.array([1, 1, 1, 2, 2]),
        ts=np.array([10, 20, 30, 10, 20]),
        values=np.array([12.0, 11.0, 14.0, 3.0, 4.0]),
        valid=np.array([True, True, True, True, False]),
        kind=np.array([TOTAL_INCREASING] * 3 + [TOTAL] * 2),
        rollover=np.full(5, np.nan),
        prev_ts=np.array([5, 5, 5, 0, 0]),
        previous=np.array([10.0, 10.0, 10.0, np.nan, np.nan]),
    )
    # 10 -> 12: 2; 12 -> 11 without rollover: reset, 0; 11 -> 14: 3; total 3; invalid: NaN.
    np.testing.assert_array_equal(delta[:4], [2.0, 0.0, 3.0, 3.0])
    assert np.isnan(delta[4])
    assert reset.tolist() == [False, True, False, False, False]
    # each counter delta covers (previous reading, reading]; a total's row has no interval
    assert start.tolist() == [5, 10, 20, 10, 20]
    inst, _, _ = meter_deltas(
        np.array([1]), np.array([7]), np.array([5.0]), np.array([True]),
        np.array([INSTANTANEOUS]), np.array([np.nan]), np.array([0]), np.array([np.nan]),
    )  # fmt: skip
    assert np.isnan(inst[0])
