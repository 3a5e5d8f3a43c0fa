"""Alerts from the store: the energy budget from accounted electricity, and the CLI
``tansuan alerts --send`` delivering to a real local webhook server."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.settings import get_settings
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.views.alerts import site_alerts
from tests.analytics.receiver import Receiver, receiver_fixture  # noqa: F401
from tests.conftest import FROZEN_NOW
from tests.web import insights_data as planted
from tests.web.conftest import Deployment
from tests.web.demo import ROOT, build


def _with_budget(tce: float) -> SiteModel:
    raw = yaml.safe_load((ROOT / "examples" / "site.yaml").read_text(encoding="utf-8"))
    raw["organisation"]["companies"][0]["sites"][0]["energy_budget_tce"] = tce
    return SiteModel.model_validate(raw)


def test_energy_budget_alert_from_accounted_electricity(deployment: Deployment) -> None:
    """The demo's one accounted month of grid electricity: the meter counts 2000 kWh a day
    over 28 daily readings → 27 × 2000 = 54 000 kWh; at GB/T 2589-2020's 0.1229 kgce/kWh
    that is 6.6366 tce, and with one month of the year the run rate is 12 × 6.6366 =
    79.6392 tce. A 60 tce budget with a 10 % margin (66 tce) is exceeded by 32.7 %."""
    year = int(deployment.built["month"][:4])
    settings = deployment.app.state.settings.model_copy(update={"alert_margin_pct": 10.0})
    out = site_alerts(deployment.store, _with_budget(60.0), "demo-site", year, settings)
    assert out["facts"]["year_tce"] == pytest.approx(12 * 54_000 * 0.1229 / 1000)
    [alert] = out["alerts"]
    assert alert.kind == "energy_budget" and alert.limit == 60.0
    assert "32.7%" in alert.en
    # 79.64 < 80: no alert
    assert (
        site_alerts(deployment.store, _with_budget(80.0), "demo-site", year, settings)["alerts"]
        == []
    )


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    values = {
        "TANSUAN_DATA_DIR": str(tmp_path / "data"),
        "TANSUAN_DATABASE_URL": url,
        "TANSUAN_DEMO": "true",
        "TANSUAN_ALERT_THRESHOLDS": '["*:month_tco2e>500"]',
        "TANSUAN_ALERT_WEBHOOKS": json.dumps(
            [f"wecom={receiver.url}/wecom", f"feishu={receiver.url}/feishu"]
        ),
        "TANSUAN_ALERT_RETRIES": "0",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    store = Store(url, settings=get_settings())
    try:
        built = build(store, FROZEN_NOW.astimezone(dt.UTC))
        planted.plant_all(store, built["ingestor"])
    finally:
        store.close()
    yield url
    get_settings.cache_clear()


def test_cli_alerts_send_to_the_webhooks(cli_env: str, receiver: Receiver) -> None:
    result = CliRunner().invoke(app, ["alerts", "--site", "demo-site", "--year", "2024",
                                      "--send", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert [a["kind"] for a in body["alerts"]] == ["allowance", "threshold"]
    assert [d["ok"] for d in body["deliveries"]] == [True, True]
    sent = dict(zip(receiver.paths, receiver.bodies, strict=True))
    assert sent["/wecom"]["msgtype"] == "markdown"
    assert "demo-site" in sent["/wecom"]["markdown"]["content"]
    assert sent["/feishu"]["msg_type"] == "text"


def test_cli_alerts_report_a_dead_webhook(cli_env: str, receiver: Receiver) -> None:
    receiver.close()  # nothing listens any more
    result = CliRunner().invoke(app, ["alerts", "--site", "demo-site", "--year", "2024",
                                      "--send"])  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "✗" in result.output and "demo-site" in result.output


def test_cli_alerts_are_sent_once_until_they_clear(cli_env: str, receiver: Receiver) -> None:
    args = ["alerts", "--site", "demo-site", "--year", "2024", "--send"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert len(receiver.bodies) == 2  # wecom + feishu
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "already sent" in second.output
    assert len(receiver.bodies) == 2  # nothing new was posted
    again = CliRunner().invoke(app, [*args, "--resend"])
    assert again.exit_code == 0, again.output
    assert len(receiver.bodies) == 4


def test_a_cleared_alert_is_forgotten(tmp_path: Path) -> None:
    from tansuan.analytics.alerts import Alert, SentLog

    a = Alert("s", "threshold", "warning", "month_tco2e", 600.0, 500.0, "tCO2e", "z", "e")
    log = SentLog(tmp_path / "sent.json")
    assert log.new(2024, [a]) == [a]
    log.update("s", 2024, [a], [a])
    assert SentLog(tmp_path / "sent.json").new(2024, [a]) == []
    log.update("s", 2024, [], [])  # the alert cleared
    assert SentLog(tmp_path / "sent.json").new(2024, [a]) == [a]
