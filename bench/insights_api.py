"""Server times of the analytics API and pages on the planted demo (tests/web/demo.py +
tests/web/insights_data.py): 14 days of hourly fan power for the findings, 120 days of an
hourly counter for the savings, 42 months of results for the forecast and position.

Prints one JSON line. Each route is requested ``--rounds`` times in turn (interleaved so
machine load hits all alike) through the real app in-process; the server time is the
app's own ``Server-Timing`` figure. Baseline: ``GET /api/v1/sites/demo-site/points/
fan-001.power/series?resolution=hour`` over the same 14 days (the bare read the findings
start from), so ``<route>_ratio`` is the analytics' cost over reading its input.

    .venv/bin/python bench/insights_api.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web import insights_data as planted  # noqa: E402
from tests.web.demo import PASSWORD, build  # noqa: E402

from tansuan.settings import Settings  # noqa: E402
from tansuan.store import Store  # noqa: E402
from tansuan.web.app import create_app  # noqa: E402

ROUTES = {
    "baseline_series_hour": "/api/v1/sites/demo-site/points/fan-001.power/series?resolution=hour"
    "&from=2025-03-02T16:00:00Z&to=2025-03-16T16:00:00Z",
    "findings": "/api/v1/findings?site=demo-site&from=2025-03-03&to=2025-03-17&tariff=0.8"
    "&factor=0.5",
    "savings": "/api/v1/savings?site=demo-site&node=fan-001&intervention=2025-07-01",
    "forecast": "/api/v1/forecast?site=demo-site&year=2024",
    "position": "/api/v1/position?site=demo-site&year=2024",
    "alerts": "/api/v1/alerts?site=demo-site&year=2024",
    "allowance": "/api/v1/allowance?site=demo-site&year=2024",
    "page_position": "/insights/position?site=demo-site&year=2024",
    "page_findings": "/insights/findings?site=demo-site&start=2025-03-03&end=2025-03-17"
    "&tariff=0.8&factor=0.5",
    "page_forecast": "/insights/forecast?site=demo-site&year=2024",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    folder = Path(tempfile.mkdtemp(prefix="tansuan-bench-insights-"))
    url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True)
    store = Store(url, settings=settings)
    built = build(store, dt.datetime.now(dt.UTC))
    planted.plant_all(store, built["ingestor"])
    app = create_app(settings, store=store)
    times: dict[str, list[float]] = {name: [] for name in ROUTES}
    with TestClient(app) as client:
        page = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf": csrf})
        for _ in range(args.rounds):
            for name, path in ROUTES.items():
                started = time.perf_counter()
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code, response.text)
                timing = response.headers.get("server-timing")
                elapsed = (time.perf_counter() - started) * 1000
                times[name].append(float(timing.split("dur=")[1]) if timing else elapsed)
    store.close()
    base = statistics.median(times["baseline_series_hour"])
    out: dict[str, float | int | str] = {"rounds": args.rounds, "baseline": "series_hour"}
    for name, values in times.items():
        values.sort()
        median = statistics.median(values)
        out[f"{name}_ms_median"] = round(median, 2)
        out[f"{name}_ms_p90"] = round(values[int(0.9 * (len(values) - 1))], 2)
        out[f"{name}_ratio"] = round(median / base, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
