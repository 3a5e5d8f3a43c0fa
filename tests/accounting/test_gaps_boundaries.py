"""HJ 75 gap filling across month and year boundaries, through the store (SQLite and
PostgreSQL) and as a pure function.

HJ 75-2017 §11–12 (recollection, ``domain-facts.md`` §5.2 [M]; thresholds in
data/cems.csv): a gap of at most 24 h takes the mean of the valid hour before and the
valid hour after it; a longer gap takes the maximum of the 720 valid hours before it.

Every store test uses one CEMS stack (site ``yard``, Asia/Shanghai, hourly points): the
flue-gas flow is 100 000 m3/h in every hour, and the CO2 concentration is
100 000 mg/m3 except a few known hours. HJ 212-2017 App. D eq. (33): an hour emits
C × Q × 10^-6 kg = C [mg/m3] × 10^-4 kg … so 100 000 mg/m3 → 10 000 kg = **10 t**, and
in general **C / 10 000 t** per hour. Only the concentration has gaps (an analyser
fault); the flow is complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tansuan.accounting.engine import Accountant
from tansuan.accounting.gaps import MAX_OF_LOOKBACK, MEAN_OF_NEIGHBOURS, fill_cems_conservative
from tansuan.accounting.periods import parse_period
from tansuan.accounting.results import ResultSet
from tansuan.accounting.rollup import grams_to_tonnes
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.result import BatchHook
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.store.timeutil import to_us

nan = np.nan
TZ = ZoneInfo("Asia/Shanghai")
BASE = 100_000.0  #: mg/m3 → 10 t/h with the flow of 100 000 m3/h

MODEL = {
    "version": 1,
    "organisation": {
        "id": "grp",
        "companies": [
            {
                "id": "co",
                "sites": [
                    {
                        "id": "yard",
                        "timezone": "Asia/Shanghai",
                        "areas": [
                            {
                                "id": "utilities",
                                "devices": [
                                    {
                                        "id": "boiler",
                                        "class": "boiler",
                                        "points": [
                                            {
                                                "id": "co2",
                                                "quantity": "concentration",
                                                "unit": "mg/m3",
                                                "interval_s": 3600,
                                            },
                                            {
                                                "id": "flow",
                                                "quantity": "flow",
                                                "unit": "m3/h",
                                                "interval_s": 3600,
                                            },
                                        ],
                                    }
                                ],
                            }
                        ],
                        "sources": [
                            {
                                "id": "stack",
                                "method": "cems",
                                "device": "boiler",
                                "activity": [{"point": "co2"}, {"point": "flow"}],
                            }
                        ],
                    }
                ],
            }
        ],
    },
}


def _local(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TZ)


def _hours(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Local hours ``[start, end)`` (Asia/Shanghai has no DST: 24 h a day)."""
    return [
        start + dt.timedelta(hours=h) for h in range(int((end - start).total_seconds()) // 3600)
    ]


def _ingest(
    store: Store,
    start: dt.datetime,
    end: dt.datetime,
    *,
    missing: Collection[dt.datetime] = (),
    peaks: dict[dt.datetime, float] | None = None,
    hooks: tuple[BatchHook, ...] = (),
) -> None:
    """One reading per hour: the flow always, the concentration unless ``missing``."""
    hours = _hours(start, end)
    flow = [to_us(h) for h in hours]
    co2 = [h for h in hours if h not in missing]
    values = [(peaks or {}).get(h, BASE) for h in co2]
    stamps = [to_us(h) for h in co2] + flow
    keys = ["co2"] * len(co2) + ["flow"] * len(flow)
    result = Ingestor(store, batch_hooks=hooks).ingest_columns(
        "yard", keys, stamps, values + [100_000.0] * len(flow)
    )
    assert result.rejected == 0


@pytest.fixture
def yard(db_url: str) -> Iterator[tuple[Store, Accountant]]:
    store = Store(db_url)
    model = SiteModel.model_validate(MODEL)
    store.load_model(model)
    yield store, Accountant(store, model)
    store.close()


def _month(accountant: Accountant, label: str) -> ResultSet:
    report = accountant.run("yard", parse_period(label))
    assert report.errors == []
    (result,) = report.computed
    return result


def _fills(result: ResultSet) -> list[dict[str, object]]:
    concentration = result.trace["data"]["activity"][0]
    assert concentration["point"] == "co2"
    return list(concentration.get("fills", []))


def test_long_august_gap_looks_back_into_july(yard: tuple[Store, Accountant]) -> None:
    """A 30 h analyser fault in August takes the maximum of the 720 valid hours before it,
    July's peak included (HJ 75-2017 §11–12 [M]).

    Data: July and August 2024, every hour. Concentration 100 000 mg/m3 except
    July 5 12:00 = 300 000 (outside the look-back), July 20 12:00 = 150 000 (inside),
    August 3 12:00 = 120 000. Missing: August 10 00:00 … August 11 05:00 (30 h).

    Look-back of the gap (starting Aug 10 00:00): Aug 1–9 hold 9 × 24 = 216 valid hours,
    so 720 − 216 = 504 h = 21 days come from July, counted back from Aug 1 00:00: the
    window is [Jul 11 00:00, Aug 10 00:00). Its maximum is 150 000 (July 20) — not
    300 000 (July 5, before the window), not 120 000 (August's own maximum, the old
    answer).

    August (744 h): 713 hours × 10 t + 12 t (Aug 3) + 30 × 15 t (filled)
    = 7 130 + 12 + 450 = **7 592 t**. Filling with August's maximum instead would give
    30 × 12 = 360 t, i.e. 7 502 t (−90 t). Substituted 30/744 = 4.03 % ≤ 5 % → grade B.

    A late July reading in the window (July 25 12:00: 160 000) marks August stale, and
    its recalculation fills with 160 000: 7 592 + 30 × (16 − 15) = **7 622 t**.
    """
    store, accountant = yard
    gap = set(_hours(_local(2024, 8, 10), _local(2024, 8, 11, 6)))
    assert len(gap) == 30
    peaks = {
        _local(2024, 7, 5, 12): 300_000.0,
        _local(2024, 7, 20, 12): 150_000.0,
        _local(2024, 8, 3, 12): 120_000.0,
    }
    _ingest(store, _local(2024, 7, 1), _local(2024, 9, 1), missing=gap, peaks=peaks)
    august = _month(accountant, "2024-08")
    assert grams_to_tonnes(august.co2e_g) == pytest.approx(7_592.0, abs=1e-6)
    assert august.substituted_share == pytest.approx(30 / 744)
    assert august.grade == "B"
    (fill,) = _fills(august)
    assert fill["rule"] == f"HJ 75-2017 {MAX_OF_LOOKBACK}"
    assert fill["value"] == 150_000.0
    assert (fill["gap_hours"], fill["hours_in_period"]) == (30, 30)
    assert fill["from"] == _local(2024, 8, 10).astimezone(dt.UTC).isoformat()
    assert fill["window"] == {
        "from": _local(2024, 7, 11).astimezone(dt.UTC).isoformat(),
        "to": _local(2024, 8, 10).astimezone(dt.UTC).isoformat(),
        "valid_hours": 720,
    }
    late = _local(2024, 7, 25, 12)
    result = Ingestor(store, batch_hooks=[accountant.stale_hook]).ingest_columns(
        "yard", ["co2"], [to_us(late)], [160_000.0]
    )
    assert result.rejected == 0
    stale = accountant.recalculate_stale("yard")
    assert [r.period for r in stale.computed] == ["2024-08"]
    assert grams_to_tonnes(stale.computed[0].co2e_g) == pytest.approx(7_622.0, abs=1e-6)


def test_short_gap_across_october_and_november(yard: tuple[Store, Accountant]) -> None:
    """A 3 h outage across Oct 31/Nov 1 takes the mean of its neighbours in both months.

    Data: October and November 2024, every hour. Concentration 100 000 mg/m3 except
    Oct 15 12:00 = 200 000 (October's maximum) and Oct 31 21:00 = 120 000 (the valid hour
    before the gap); Nov 1 01:00 = 100 000 is the valid hour after it. Missing:
    Oct 31 22:00, 23:00 and Nov 1 00:00 (3 h ≤ 24 h).

    Fill: (120 000 + 100 000)/2 = 110 000 mg/m3 → 11 t/h, in both months.

    October (744 h): 742 valid hours: 740 × 10 + 20 (Oct 15) + 12 (Oct 31 21:00)
    = 7 432 t; plus its 2 filled hours × 11 = 22 t → **7 454 t**. (The old fill with
    October's maximum: 2 × 20 = 40 t → 7 472 t, +18 t.) Substituted 2/744 → grade B.

    November (720 h): 719 valid hours × 10 = 7 190 t; plus Nov 1 00:00 filled, 11 t
    → **7 201 t**. (Before, Nov 1 00:00 was never filled: 7 190 t, −11 t, grade D.)
    Substituted 1/720 → grade B.
    """
    store, accountant = yard
    gap = {_local(2024, 10, 31, 22), _local(2024, 10, 31, 23), _local(2024, 11, 1)}
    peaks = {_local(2024, 10, 15, 12): 200_000.0, _local(2024, 10, 31, 21): 120_000.0}
    _ingest(store, _local(2024, 10, 1), _local(2024, 12, 1), missing=gap, peaks=peaks)
    october, november = _month(accountant, "2024-10"), _month(accountant, "2024-11")
    assert grams_to_tonnes(october.co2e_g) == pytest.approx(7_454.0, abs=1e-6)
    assert grams_to_tonnes(november.co2e_g) == pytest.approx(7_201.0, abs=1e-6)
    assert (october.grade, november.grade) == ("B", "B")
    assert october.substituted_share == pytest.approx(2 / 744)
    assert november.substituted_share == pytest.approx(1 / 720)
    (in_october,), (in_november,) = _fills(october), _fills(november)
    assert in_october["hours_in_period"] == 2 and in_november["hours_in_period"] == 1
    for fill in (in_october, in_november):  # one gap, one rule, one value, from both sides
        assert fill["rule"] == f"HJ 75-2017 {MEAN_OF_NEIGHBOURS}"
        assert fill["value"] == 110_000.0
        assert fill["gap_hours"] == 3
        assert fill["from"] == _local(2024, 10, 31, 22).astimezone(dt.UTC).isoformat()
        assert fill["window"] == {
            "from": _local(2024, 10, 31, 21).astimezone(dt.UTC).isoformat(),
            "to": _local(2024, 11, 1, 2).astimezone(dt.UTC).isoformat(),
            "valid_hours": 2,
        }


def test_long_gap_across_the_year_boundary(yard: tuple[Store, Accountant]) -> None:
    """A 30 h gap from Dec 31 12:00 to Jan 1 17:00: each year books its own hours, both
    filled with the maximum of the 720 valid hours before the gap — and a December
    computed before January's data arrived is corrected when they do.

    Data: December 2024 (complete up to the gap) and January 2025 (from Jan 1 18:00).
    Concentration 100 000 mg/m3 except Dec 1 06:00 = 300 000 and Dec 20 12:00 = 130 000.
    Missing: Dec 31 12:00 … Jan 1 17:00 = 12 + 18 = 30 h > 24 h.

    Look-back: 720 valid hours before Dec 31 12:00 = [Dec 1 12:00, Dec 31 12:00) (Dec 1
    00:00–11:00 and its 300 000 peak lie before it); maximum 130 000 → 13 t/h.

    December (744 h): 732 valid hours: 730 × 10 + 30 (Dec 1) + 13 (Dec 20) = 7 343 t;
    plus 12 × 13 = 156 t → **7 499 t**; substituted 12/744 → grade B.
    January 2025 (744 h): 726 valid hours × 10 = 7 260 t; plus 18 × 13 = 234 t
    → **7 494 t**; substituted 18/744 → grade B. (Before: January's first 18 hours were
    never filled — 7 260 t, grade D.)

    Before January's data arrive, December's last 12 hours have no valid hour after them:
    data not yet received, not substituted — 7 343 t, grade D, 12 hours said missing.
    January's readings mark December stale (the hour after a gap may close a gap of the
    previous month), and recalculating it gives the 7 499 t above.
    """
    store, accountant = yard
    _ingest(
        store,
        _local(2024, 12, 1),
        _local(2024, 12, 31, 12),
        peaks={_local(2024, 12, 1, 6): 300_000.0, _local(2024, 12, 20, 12): 130_000.0},
    )
    early = _month(accountant, "2024-12")
    assert grams_to_tonnes(early.co2e_g) == pytest.approx(7_343.0, abs=1e-6)
    assert early.grade == "D"
    assert any("12 小时无有效数据" in note for note in early.notes)
    # January arrives (flow from Dec 31 12:00, so only the concentration has the gap).
    gap = set(_hours(_local(2024, 12, 31, 12), _local(2025, 1, 1, 18)))
    _ingest(
        store,
        _local(2024, 12, 31, 12),
        _local(2025, 2, 1),
        missing=gap,
        hooks=(accountant.stale_hook,),
    )
    stale = accountant.recalculate_stale("yard")
    assert [r.period for r in stale.computed] == ["2024-12"]
    (december,) = stale.computed
    january = _month(accountant, "2025-01")
    assert grams_to_tonnes(december.co2e_g) == pytest.approx(7_499.0, abs=1e-6)
    assert grams_to_tonnes(january.co2e_g) == pytest.approx(7_494.0, abs=1e-6)
    assert (december.grade, january.grade) == ("B", "B")
    assert december.substituted_share == pytest.approx(12 / 744)
    assert january.substituted_share == pytest.approx(18 / 744)
    (in_december,), (in_january,) = _fills(december), _fills(january)
    assert (in_december["hours_in_period"], in_january["hours_in_period"]) == (12, 18)
    for fill in (in_december, in_january):
        assert fill["rule"] == f"HJ 75-2017 {MAX_OF_LOOKBACK}"
        assert (fill["value"], fill["gap_hours"]) == (130_000.0, 30)
        assert fill["window"] == {
            "from": _local(2024, 12, 1, 12).astimezone(dt.UTC).isoformat(),
            "to": _local(2024, 12, 31, 12).astimezone(dt.UTC).isoformat(),
            "valid_hours": 720,
        }


def test_long_outage_and_data_not_yet_received(yard: tuple[Store, Accountant]) -> None:
    """A 15-day outage from Sep 20 00:00 to Oct 5 00:00 (360 h), then five days of data,
    then nothing yet.

    Data: Sep 1 00:00 – Sep 20 00:00 (456 h) and Oct 5 00:00 – Oct 10 00:00 (120 h), both
    points. Concentration 100 000 mg/m3 except Sep 10 12:00 = 140 000.

    The outage is long: the maximum of the valid hours before it — only 456 exist
    (< 720), all taken: window [Sep 1 00:00, Sep 20 00:00), maximum 140 000 → 14 t/h.
    September books 11 days = 264 h of it, October 4 days = 96 h, with the same value.
    From September the outage runs past the 25 h read after the month: the trace says it
    ``continues`` (its length there is a lower bound, 264 + 25 = 289 h).

    September (720 h): 455 × 10 + 14 = 4 564 t; + 264 × 14 = 3 696 t → **8 260 t**;
    substituted 264/720 = 36.7 % → grade D.
    October (744 h): 120 × 10 = 1 200 t; + 96 × 14 = 1 344 t → **2 544 t**. From Oct 10
    00:00 no valid hour follows in the store: data not yet received, not substituted —
    744 − 120 − 96 = 528 hours said missing, grade D.
    """
    store, accountant = yard
    _ingest(
        store, _local(2024, 9, 1), _local(2024, 9, 20), peaks={_local(2024, 9, 10, 12): 140_000.0}
    )
    _ingest(store, _local(2024, 10, 5), _local(2024, 10, 10))
    september, october = _month(accountant, "2024-09"), _month(accountant, "2024-10")
    assert grams_to_tonnes(september.co2e_g) == pytest.approx(8_260.0, abs=1e-6)
    assert grams_to_tonnes(october.co2e_g) == pytest.approx(2_544.0, abs=1e-6)
    assert (september.grade, october.grade) == ("D", "D")
    assert any("528 小时无有效数据" in note for note in october.notes)
    (in_september,), (in_october,) = _fills(september), _fills(october)
    assert in_september["continues"] is True and "continues" not in in_october
    assert (in_september["gap_hours"], in_october["gap_hours"]) == (289, 360)
    assert (in_september["hours_in_period"], in_october["hours_in_period"]) == (264, 96)
    for fill in (in_september, in_october):
        assert fill["rule"] == f"HJ 75-2017 {MAX_OF_LOOKBACK}"
        assert fill["value"] == 140_000.0
        assert fill["from"] == _local(2024, 9, 20).astimezone(dt.UTC).isoformat()
        assert fill["window"] == {
            "from": _local(2024, 9, 1).astimezone(dt.UTC).isoformat(),
            "to": _local(2024, 9, 20).astimezone(dt.UTC).isoformat(),
            "valid_hours": 456,
        }


def test_pure_fill_with_look_back_and_hours_after() -> None:
    """The gap function alone, with thresholds short_gap = 2 h and lookback = 3 valid hours.

    history = [9, 50, 7, 8, nan, 6], period = [nan, 5, nan, nan, nan, 4, nan],
    after = [nan, 3]. One series: 9 50 7 8 _ 6 | _ 5 _ _ _ 4 _ | _ 3.

    * the gap at history index 4 lies wholly before the period: not ours, untouched;
    * period hour 0 (1 h ≤ 2 h): mean of 6 (history) and 5 → 5.5, rule mean;
    * period hours 2–4 (3 h > 2 h): maximum of the 3 valid hours before it — 6, 5 and 8
      (skipping the history gap, not counting the substituted 5.5) → 8; the 50 is the
      5th valid hour back, outside the look-back;
    * period hour 6 with after hour 0 (2 h ≤ 2 h): mean of 4 and 3 → 3.5; the period
      books 1 of its 2 hours.
    """
    history = np.array([9.0, 50.0, 7.0, 8.0, nan, 6.0])
    values = np.array([nan, 5.0, nan, nan, nan, 4.0, nan])
    after = np.array([nan, 3.0])
    filled = fill_cems_conservative(values, history, after, short_gap=2, lookback=3)
    np.testing.assert_array_equal(filled.values, [5.5, 5.0, 8.0, 8.0, 8.0, 4.0, 3.5])
    np.testing.assert_array_equal(filled.substituted, [1, 0, 1, 1, 1, 0, 1])
    first, long, last = filled.steps
    assert (first.start, first.end, first.rule, first.value) == (0, 1, MEAN_OF_NEIGHBOURS, 5.5)
    assert first.window == (-1, 2)  # the valid hour before (history) and after
    assert (long.start, long.end, long.rule, long.value) == (2, 5, MAX_OF_LOOKBACK, 8.0)
    assert (long.window, long.window_valid_hours) == ((-3, 2), 3)  # history 8 … period 5
    assert (last.start, last.end, last.value, last.hours) == (6, 8, 3.5, 2)


def test_pure_fill_leaves_data_not_yet_received_missing() -> None:
    """A gap running to the end of what is known: with ``resumes=False`` (no valid hour
    after it in the store) it stays missing; with valid data known to follow beyond the
    arrays it is a long gap and takes the look-back maximum (max(4, 6) = 6)."""
    values = np.array([4.0, 6.0, nan, nan])
    open_end = fill_cems_conservative(values, short_gap=1, lookback=720, resumes=False)
    assert np.isnan(open_end.values[2:]).all() and not open_end.substituted.any()
    closed = fill_cems_conservative(values, short_gap=1, lookback=720, resumes=True)
    np.testing.assert_array_equal(closed.values, [4, 6, 6, 6])
