"""The live twin's log (the demo's twin.log) stays small: it grew ~3 MB/h with INFO lines.

One summary line per :data:`~tansuan.twin.live.SUMMARY_S` (600 s) and one warning per
kind of failed send per interval; the protocol libraries log WARNING and above only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tansuan.twin import live
from tansuan.twin.history import save_state, state_path

from ..gateways.conftest import free_port


@pytest.mark.real_clock("the live twin sends data stamped with the real time (as test_twin_live)")
def test_a_server_that_is_down_is_one_warning_not_one_per_tick(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """20 ticks against a closed port (a real refused connection): one warning line."""
    data_dir = tmp_path / "var"
    since = dt.datetime.now(ZoneInfo("Asia/Shanghai")) - dt.timedelta(minutes=20)
    save_state(
        state_path(data_dir, "cement"),
        {"site": "cement", "seed": 7, "intervention": None, "day": since.date().isoformat(),
         "registers": {}, "last_ts_us": int(since.timestamp() * 1_000_000)},
    )  # fmt: skip
    options = live.LiveOptions(
        url=f"http://127.0.0.1:{free_port()}", tick_s=0.1, duration_s=2.0, hj212=None,
        timeout_s=1.0,
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="tansuan.twin"):
        sent = asyncio.run(live.run("cement", data_dir, options))
    assert sent.http == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "HTTP" in warnings[0] and "retrying" in warnings[0]


def test_an_hour_is_a_handful_of_lines(caplog: pytest.LogCaptureFixture) -> None:
    """An hour of 10-s ticks (360), 300 readings each, HTTP down from 1,000 s to 1,600 s:
    6 summary lines (every 600 s) and 2 warnings (the outage spans two intervals) —
    8 lines, where a line per tick and failure made 421."""
    clock = [0.0]
    summary = live.Summary(600.0, now=lambda: clock[0])
    with caplog.at_level(logging.INFO, logger="tansuan.twin"):
        for tick in range(1, 361):
            clock[0] = tick * 10.0
            if 100 <= tick <= 160:
                summary.failed("HTTP", ConnectionRefusedError("refused"))
            else:
                summary.sent("HTTP readings", 300)
            summary.tick()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 8
    assert sum("failed sends: HTTP ×" in line for line in lines) == 2
    assert "HTTP readings 18,000" in lines[0]  # 60 ticks × 300 in the first 600 s
    assert sum(len(line) for line in lines) < 2_000


def test_twin_run_logs_libraries_at_warning_only() -> None:
    from tansuan.cli.twin import configure_logging

    root = logging.getLogger()
    saved = root.level, list(root.handlers), logging.getLogger("tansuan").level
    try:
        root.handlers.clear()
        configure_logging()
        assert (
            logging.getLogger("asyncua.server.uaprocessor").getEffectiveLevel() == logging.WARNING
        )
        assert logging.getLogger("pymodbus").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("tansuan.twin.live").getEffectiveLevel() == logging.INFO
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        logging.getLogger("tansuan").setLevel(saved[2])
