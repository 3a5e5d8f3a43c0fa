"""Faults on demand: each appears in the generated readings exactly as specified."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tansuan.errors import InputError
from tansuan.site.model import Site
from tansuan.twin import faults
from tansuan.twin.faults import Fault
from tansuan.twin.frame import Frame
from tansuan.twin.plant import Plant, TwinSpec

DAY = dt.date(2025, 6, 2)
CST = dt.timezone(dt.timedelta(hours=8))


def _us(hour: int, minute: int = 0) -> int:
    return int(dt.datetime(2025, 6, 2, hour, minute, tzinfo=CST).timestamp() * 1_000_000)


@pytest.fixture
def frame(mini_site: Site) -> Frame:
    frame, _ = Plant(mini_site, TwinSpec(seed=4)).day(DAY)
    return frame


def _rows(frame: Frame, point: str) -> Frame:
    rows = frame.take(frame.point == point)
    return rows.take(np.argsort(rows.ts_us))


def test_dropout(frame: Frame) -> None:
    fault = Fault("dropout", ("fan-1.power",), _us(10), _us(11))
    out = _rows(faults.apply(frame, [fault]), "fan-1.power")
    assert not ((out.ts_us >= _us(10)) & (out.ts_us < _us(11))).any()
    assert out.n == _rows(frame, "fan-1.power").n - 12  # 12 five-minute readings gone
    assert faults.apply(frame, [fault]).n == frame.n - 12  # other points untouched


def test_stuck_value(frame: Frame) -> None:
    out = _rows(faults.apply(frame, [Fault("stuck", ("fan-1.power",), _us(9), _us(10))]),
                "fan-1.power")  # fmt: skip
    inside = out.value[(out.ts_us >= _us(9)) & (out.ts_us < _us(10))]
    assert inside.size == 12 and np.all(inside == inside[0])
    before = _rows(frame, "fan-1.power")
    assert inside[0] == before.value[before.ts_us == _us(9)][0]


def test_spike(frame: Frame) -> None:
    fault = Fault("spike", ("stack-1.so2",), _us(12), _us(13), magnitude=10.0)
    out = _rows(faults.apply(frame, [fault]), "stack-1.so2")
    before = _rows(frame, "stack-1.so2")
    changed = np.flatnonzero(out.value != before.value)
    assert changed.tolist() == [int(np.flatnonzero(before.ts_us == _us(12))[0])]
    assert out.value[changed[0]] == pytest.approx(10 * before.value[changed[0]])


def test_counter_reset(mini_site: Site) -> None:
    """The register restarts at 0 at the reset and keeps counting, into the next day."""
    plant = Plant(mini_site, TwinSpec(seed=4))
    plant.resets = [Fault("counter_reset", ("grid-meter.energy",), _us(15), _us(15))]
    first, _ = plant.day(DAY)
    second, _ = plant.day(DAY + dt.timedelta(days=1))
    meter = _rows(Frame.concat([first, second]), "grid-meter.energy")
    at = int(np.flatnonzero(meter.ts_us == _us(15))[0])
    assert meter.value[at - 1] > 1e5  # the old register
    assert 0 < meter.value[at] < meter.value[at - 1] / 100
    assert np.all(np.diff(meter.value[at:]) > 0)  # counting on, across midnight


def test_clock_skew(frame: Frame) -> None:
    fault = Fault("clock_skew", ("fan-2.power",), _us(8), _us(9), magnitude=90.0)
    out = _rows(faults.apply(frame, [fault]), "fan-2.power")
    before = _rows(frame, "fan-2.power")
    shifted = out.ts_us - before.ts_us
    inside = (before.ts_us >= _us(8)) & (before.ts_us < _us(9))
    assert np.all(shifted[inside] == 90_000_000) and np.all(shifted[~inside] == 0)


def test_data_logger_outage(frame: Frame, mini_site: Site) -> None:
    stack = tuple(
        p.id for p in next(d for _, d in mini_site.iter_devices() if d.id == "stack-1").points
    )
    fault = faults.parse("outage:logger@2025-06-02T06:00+08:00/120", connections={"logger": stack})
    out = faults.apply(frame, [fault])
    window = (out.ts_us >= _us(6)) & (out.ts_us < _us(8))
    assert not np.isin(out.point[window], stack).any()
    assert np.isin(out.point[~window], stack).any()
    assert (out.point[window] == "fan-1.power").sum() == 24  # other points still report


def test_parse_and_bad_faults() -> None:
    fault = faults.parse("spike:fan-1.power@2025-06-02T12:00+08:00/5/20")
    assert (fault.kind, fault.targets, fault.magnitude) == ("spike", ("fan-1.power",), 20.0)
    assert fault.end_us - fault.start_us == 5 * 60_000_000
    bad = (
        "nonsense",
        "melt:fan-1.power@2025-06-02T12:00+08:00/5",
        "stuck:fan-1.power@2025-06-02T12:00/5",
        "outage:nobody@2025-06-02T12:00+08:00",
    )
    for text in bad:
        with pytest.raises(InputError):
            faults.parse(text, connections={})
