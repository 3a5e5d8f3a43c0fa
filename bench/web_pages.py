"""Dashboard and API server times on the small demo deployment (tests/web/demo.py).

Prints one JSON line. Each page is requested ``--rounds`` times in turn (pages
interleaved so machine load hits all alike) through the real app in-process; the server
time is the app's own ``Server-Timing`` figure (middleware to response), so client and
transport are not counted. Baseline: ``/login`` (a template render with no data).

    .venv/bin/python bench/web_pages.py [--rounds 30]

Figures: ``<page>_ms_median`` and ``<page>_ms_p90`` per page, ``<page>_ratio`` = median /
baseline median, ``<page>_in_process_ms_median`` (the same request timed by the
client, through the in-process ASGI transport), and ``max_median_ms`` (budget 300 ms).
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

from tests.web.demo import PASSWORD, build  # noqa: E402

from tansuan.settings import Settings  # noqa: E402
from tansuan.store import Store  # noqa: E402
from tansuan.web.app import create_app  # noqa: E402

PAGES = {
    "login": "/login",
    "overview": "/overview",
    "site": "/sites/demo-site",
    "device": "/sites/demo-site/devices/fan-001",
    "quality": "/quality/demo-site",
    "emissions": "/emissions?node=demo-site&period=2025",
    "ledger": "/ledger",
    "grants": "/admin/grants",
    "api_series_raw": "/api/v1/sites/demo-site/points/fan-001.power/series?resolution=raw",
    "api_emissions": "/api/v1/emissions?node=demo-site&period=2025",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    folder = Path(tempfile.mkdtemp(prefix="tansuan-bench-web-"))
    url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True)
    store = Store(url, settings=settings)
    build(store, dt.datetime.now(dt.UTC))
    app = create_app(settings, store=store)
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    walls: dict[str, list[float]] = {name: [] for name in PAGES}
    with TestClient(app) as client:
        page = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf": csrf})
        for _ in range(args.rounds):
            for name, path in PAGES.items():
                started = time.perf_counter()
                response = client.get(path)
                walls[name].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                timing = response.headers["server-timing"]
                times[name].append(float(timing.split("dur=")[1]))
    store.close()
    base = statistics.median(times["login"])
    out: dict[str, float | int | str] = {"rounds": args.rounds, "baseline": "login"}
    for name, values in times.items():
        values.sort()
        median = statistics.median(values)
        out[f"{name}_ms_median"] = round(median, 2)
        out[f"{name}_ms_p90"] = round(values[int(0.9 * (len(values) - 1))], 2)
        out[f"{name}_ratio"] = round(median / base, 2)
        out[f"{name}_in_process_ms_median"] = round(statistics.median(walls[name]), 2)
    out["max_median_ms"] = max(statistics.median(v) for v in times.values())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
