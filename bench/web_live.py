"""Live-value latency: a reading committed → its value shown on the device page.

Prints one JSON line. A real server (uvicorn on a TCP port) and Debian's headless
Chromium (Playwright); each of ``--readings`` values is ingested (committed) and the
time until the page's live table shows it is taken. Baseline: the same page's DOM
update measured with the value written into the table by script (no server involved),
so the figure minus baseline is the server-sent-events path. The stream checks the
store every 0.5 s, so the expected median is about 0.25-0.5 s; the budget is 2 s.

    .venv/bin/python bench/web_live.py [--readings 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.browser import ARGS, CHROMIUM, serve  # noqa: E402
from tests.web.demo import PASSWORD, build  # noqa: E402

from tansuan.settings import Settings  # noqa: E402
from tansuan.store import Store  # noqa: E402
from tansuan.web.app import create_app  # noqa: E402

SHOWN = "document.querySelector(\"#live tr[data-point='fan-001.power'] .value\").textContent === "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=20)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="tansuan-bench-live-"))
    url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True)
    store = Store(url, settings=settings)
    built = build(store, dt.datetime.now(dt.UTC))
    ingestor = built["ingestor"]
    app = create_app(settings, store=store)
    latencies: list[float] = []
    baseline: list[float] = []
    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(base + "/login")
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url("**/overview")
        page.goto(base + "/sites/demo-site/devices/fan-001")
        page.wait_for_selector("#live-dot.on")
        for i in range(args.readings):
            value = 50.0 + i + 0.5
            started = time.perf_counter()
            ingestor.ingest_columns(["demo-site"], ["fan-001.power"],
                                    np.array([time.time_ns() // 1000], dtype=np.int64),
                                    np.array([value]), source="bench")  # fmt: skip
            page.wait_for_function(SHOWN + repr(f"{value:g}"), timeout=5000, polling=10)
            latencies.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            page.evaluate(
                "v => document.querySelector(\"#live tr[data-point='fan-001.power'] .value\")"
                ".textContent = v",
                f"x{i}",
            )
            page.wait_for_function(SHOWN + repr(f"x{i}"), timeout=5000, polling=10)
            baseline.append((time.perf_counter() - started) * 1000)
        browser.close()
    store.close()
    print(json.dumps({
        "readings": args.readings,
        "latency_ms_median": round(statistics.median(latencies), 1),
        "latency_ms_max": round(max(latencies), 1),
        "baseline_dom_ms_median": round(statistics.median(baseline), 1),
        "ratio": round(statistics.median(latencies) / statistics.median(baseline), 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
