"""One round of the server's alerts job on the planted demo (tests/web/demo.py +
tests/web/insights_data.py: 42 months of results, an allowance account for 2024, a
threshold rule), delivering to a local webhook server.

Prints one JSON line. Baseline: ``site_alerts`` alone (what the dashboard banner computes
on request without the job); ``round`` = evaluate + store the alert events + deliver to
one JSON webhook (events are cleared between rounds, so every round sends). Interleaved
``--rounds`` times; medians in ms and the ratio round / baseline.

    .venv/bin/python bench/alerts_job.py [--rounds 15]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.analytics.receiver import Receiver  # noqa: E402
from tests.web import insights_data as planted  # noqa: E402
from tests.web.demo import build  # noqa: E402

from tansuan.analytics import alerts_job  # noqa: E402
from tansuan.settings import Settings  # noqa: E402
from tansuan.store import Store  # noqa: E402
from tansuan.store.models import models_by_org  # noqa: E402
from tansuan.store.schema import alert_event  # noqa: E402
from tansuan.views.alerts import site_alerts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    folder = Path(tempfile.mkdtemp(prefix="tansuan-bench-alerts-"))
    url = f"sqlite:///{folder / 'store.db'}"
    receiver = Receiver()
    settings = Settings(data_dir=folder / "data", database_url=url, demo=True,
                        alert_thresholds=["*:month_tco2e>500"], alert_retries=0,
                        alert_webhooks=[f"json={receiver.url}/json"])  # fmt: skip
    store = Store(url, settings=settings)
    built = build(store, dt.datetime.now(dt.UTC))
    planted.plant_all(store, built["ingestor"])
    with store.read() as conn:
        model = models_by_org(conn)["demo-group"]
    # The job evaluates this year; the planted figures are for 2024: pin the clock's year.
    year = 2024
    base_ms, round_ms, sent = [], [], 0
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        site_alerts(store, model, "demo-site", year, settings)
        base_ms.append((time.perf_counter() - t0) * 1000)
        with store.write() as conn:
            conn.execute(alert_event.delete())
        t0 = time.perf_counter()
        report = alerts_job.Round("bench")
        out = site_alerts(store, model, "demo-site", year, settings)
        with store.write() as conn:
            from tansuan.store import alert_events
            from tansuan.store.users import now_us

            alert_events.record(conn, "demo-group", "demo-site", year, out["alerts"], now_us())
        alerts_job.deliver(store, alerts_job.webhooks(settings), settings, report)
        round_ms.append((time.perf_counter() - t0) * 1000)
        sent += sum(d.ok for d in report.deliveries)
    receiver.close()
    store.close()
    base, rnd = statistics.median(base_ms), statistics.median(round_ms)
    print(json.dumps({  # noqa: T201
        "bench": "alerts_job", "rounds": args.rounds, "alerts": len(out["alerts"]),
        "deliveries_ok": sent, "baseline_site_alerts_ms": round(base, 1),
        "round_ms": round(rnd, 1), "round_ratio": round(rnd / base, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
