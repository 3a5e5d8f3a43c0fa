"""The analytics API: findings, savings, forecast, position and alerts on planted truth
(tests/web/insights_data.py), tenant-safe, with problem-details errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.web import insights_data as planted
from tests.web.conftest import Deployment


@pytest.fixture
def planted_deployment(deployment: Deployment) -> Deployment:
    planted.plant_all(deployment.store, deployment.built["ingestor"])
    return deployment


def _findings(client: Any, **extra: Any) -> Any:
    params = {"site": "demo-site", "from": "2025-03-03", "to": "2025-03-17", "tariff": 0.8,
              "factor": 0.5} | extra  # fmt: skip
    return client.get("/api/v1/findings", params=params)


def test_findings_rank_the_planted_off_shift_running(planted_deployment: Deployment) -> None:
    """Hand calculation in insights_data: 560 kWh off shift in 336 h → 14 600 kWh/a,
    11 680 /a at 0.8 /kWh, 7.3 tCO2e/a at 0.5 t/MWh; 28 flagged hours (22:00, 23:00)."""
    body = _findings(planted_deployment.client("alice")).json()
    assert [(f["device"], f["kind"]) for f in body["findings"]] == [("fan-001", "off_shift")]
    found = body["findings"][0]
    assert found["waste_kwh"] == pytest.approx(560.0)
    assert found["annual_kwh"] == pytest.approx(14_600.0)
    assert found["annual_cost"] == pytest.approx(11_680.0)
    assert found["annual_tco2e"] == pytest.approx(7.3)
    evidence = found["evidence"]
    assert len(evidence["hours"]) == len(evidence["kwh"]) == 336
    flagged = [h for h, f in zip(evidence["hours"], evidence["flagged"], strict=True) if f]
    assert len(flagged) == 28 and all(h.endswith(("T22", "T23")) for h in flagged)


def test_findings_need_a_tariff_and_say_so(planted_deployment: Deployment) -> None:
    client = planted_deployment.client("alice")
    response = client.get("/api/v1/findings", params={"site": "demo-site", "factor": 0.5})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "tariff" in response.json()["detail"]
    bad = _findings(client, calendar="mon-fri=25-26")
    assert bad.status_code == 400 and bad.json()["detail"]


def test_savings_measure_the_planted_30_percent(planted_deployment: Deployment) -> None:
    """The counter's daily energy drops from 1000 to 700 kWh (× the same ±3 % wave) on
    2025-07-01: a 30 % saving, which must be measured within ±3 percentage points and
    lie inside the reported interval."""
    response = planted_deployment.client("alice").get(
        "/api/v1/savings",
        params={"site": "demo-site", "node": "fan-001", "intervention": "2025-07-01",
                "factor": 0.5},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fraction"] == pytest.approx(0.30, abs=0.03)
    lo, hi = body["fraction_interval"]
    assert lo < 0.30 < hi
    assert body["avoided_tco2e"] == pytest.approx(body["avoided_kwh"] / 1000 * 0.5)
    chart = body["chart"]
    assert len(chart["dates"]) == len(chart["actual_kwh"]) == len(chart["baseline_kwh"])
    assert chart["reporting_from"] == "2025-07-01"


def test_savings_refuse_an_intervention_without_reporting_days(
    planted_deployment: Deployment,
) -> None:
    response = planted_deployment.client("alice").get(
        "/api/v1/savings",
        params={"site": "demo-site", "node": "fan-001", "intervention": "2025-07-01",
                "from": "2025-05-01", "to": "2025-06-01"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "intervention" in response.json()["detail"]


def test_forecast_continues_the_planted_season(planted_deployment: Deployment) -> None:
    """History 2021-01 … 2024-06 of 1000 + 200·cos(2π(m−1)/12) t (+ sd-5 noise): the
    forecast runs 2024-07 … 2025-12; January 2025 should be ≈ 1200 t and July 2025 ≈ 800 t
    (within 3 %), every interval must hold its mean, and the year 2024 ≈ 12 000 t."""
    response = planted_deployment.client("alice").get(
        "/api/v1/forecast", params={"site": "demo-site", "year": 2024}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    months = [f["month"] for f in body["forecast"]]
    assert months[0] == "2024-07" and months[-1] == "2025-12" and len(months) == 18
    by_month = {f["month"]: f for f in body["forecast"]}
    assert by_month["2025-01"]["mean"] == pytest.approx(1200.0, rel=0.03)
    assert by_month["2025-07"]["mean"] == pytest.approx(800.0, rel=0.03)
    assert all(f["lower"] <= f["mean"] <= f["upper"] for f in body["forecast"])
    # The working days of the shift calendar (the default one here) compete as a driver.
    assert {b["model"] for b in body["backtest"]} == {
        "seasonal_naive", "seasonal_regression", "calendar_regression"}  # fmt: skip
    assert body["drivers"] == ["working_days"]
    assert body["year_total"]["mean"] == pytest.approx(12_000.0, rel=0.02)
    assert body["year_total"]["months_actual"] == 6


def test_forecast_without_enough_history_is_a_clear_error(deployment: Deployment) -> None:
    response = deployment.client("alice").get(
        "/api/v1/forecast", params={"site": "demo-site", "year": 2025}
    )
    assert response.status_code == 400
    assert "25 months" in response.json()["detail"]


def test_position_from_forecast_and_holdings(planted_deployment: Deployment) -> None:
    """Obligation = E (16.7 % < the 20 % cap); CEA = 10 000 + 500; shortfall = E − 10 500
    valued at 80 /t; E ≈ 12 000 ± 2 % so the shortfall is 1 260 … 1 740 t, near-certain."""
    response = planted_deployment.client("alice").get(
        "/api/v1/position", params={"site": "demo-site", "year": 2024}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    p = body["position"]
    assert body["emissions_basis"] == "forecast"
    assert body["holdings"]["cea_t"] == pytest.approx(10_500.0)
    assert p["obligation"] == pytest.approx(p["emissions"])
    assert p["shortfall"] == pytest.approx(p["emissions"] - 10_500.0)
    assert 1_260 < p["shortfall"] < 1_740
    assert p["shortfall_value"] == pytest.approx(p["shortfall"] * 80.0)
    assert p["shortfall_probability"] > 0.99


def test_position_without_an_account_is_not_found(deployment: Deployment) -> None:
    response = deployment.client("alice").get(
        "/api/v1/position", params={"site": "demo-site", "year": 2024}
    )
    assert response.status_code == 404
    assert "no allowance account" in response.json()["detail"]


def test_alerts_on_the_planted_site(planted_deployment: Deployment) -> None:
    """The planted shortfall (> 0 % of the obligation, P > 0.5) is a critical allowance
    alert; last month's 2024-06 emissions (1000 + 200·cos(150°) ≈ 827 t) pass a 500 t
    threshold."""
    app = planted_deployment.app
    app.state.settings = app.state.settings.model_copy(
        update={"alert_thresholds": ["*:month_tco2e>500", "other-site:month_tco2e>1"]}
    )
    body = (
        planted_deployment.client("alice")
        .get("/api/v1/alerts", params={"site": "demo-site", "year": 2024})
        .json()
    )
    kinds = [(a["kind"], a["severity"]) for a in body["alerts"]]
    assert kinds == [("allowance", "critical"), ("threshold", "warning")]
    assert body["facts"]["month_tco2e"] == pytest.approx(planted.monthly_truth()["2024-06"])
    banner = planted_deployment.client("alice").get("/ui/alerts?site=demo-site&year=2024")
    assert banner.status_code == 200 and "alerts" in banner.text


def test_a_grant_opens_monthly_analytics_only_in_its_window(
    planted_deployment: Deployment,
) -> None:
    alice = planted_deployment.client("alice")
    grant = alice.post(
        "/api/v1/grants",
        json={"site": "demo-site", "classes": ["monthly"], "grantee_org": "verify-co",
              "window_from": "2019-12-01T00:00:00Z", "window_to": "2025-01-01T00:00:00Z",
              "expires_at": "2030-01-01T00:00:00Z"},
    )  # fmt: skip
    assert grant.status_code == 201, grant.text
    vera = planted_deployment.client("vera")
    inside = vera.get("/api/v1/forecast", params={"site": "demo-site", "year": 2024})
    assert inside.status_code == 200
    outside = vera.get("/api/v1/forecast", params={"site": "demo-site", "year": 2025})
    assert outside.status_code == 403
    hourly_only = alice.post(
        "/api/v1/grants",
        json={"site": "demo-site", "classes": ["hourly"], "grantee_org": "other-group",
              "window_from": "2020-01-01T00:00:00Z", "window_to": "2030-01-01T00:00:00Z",
              "expires_at": "2030-01-01T00:00:00Z"},
    )  # fmt: skip
    assert hourly_only.status_code == 201
    bob = planted_deployment.client("bob")
    refused = bob.get("/api/v1/forecast", params={"site": "demo-site", "year": 2024})
    assert refused.status_code == 403
    reads = alice.get(f"/api/v1/grants/{grant.json()['id']}/reads").json()["items"]
    assert [r["username"] for r in reads] == ["vera"]  # the one allowed read, logged


def test_holdings_upload_is_checked_and_replaces_only_when_valid(
    planted_deployment: Deployment,
) -> None:
    alice = planted_deployment.client("alice")

    def stored() -> dict[str, object]:
        return alice.get("/api/v1/allowance", params={"site": "demo-site", "year": 2024}).json()

    before = stored()
    bad = planted.HOLDINGS.replace("allocation: 10000", "allocation: -5")
    refused = alice.post("/api/v1/position/holdings", params={"site": "demo-site"},
                         files={"file": ("h.yaml", bad.encode(), "application/yaml")})  # fmt: skip
    assert refused.status_code == 422 and "allocation" in refused.text  # every issue listed
    assert refused.headers["content-type"].startswith("application/problem+json")
    bad_date = planted.HOLDINGS.replace("2024-03-01", "2024-13-01")
    files = {"file": ("h.yaml", bad_date.encode(), "application/yaml")}
    refused = alice.post("/api/v1/position/holdings", params={"site": "demo-site"}, files=files)
    assert refused.status_code == 422 and "trades.0.date" in refused.text
    assert stored() == before  # nothing stored was changed
    better = planted.HOLDINGS.replace("allocation: 10000", "allocation: 11000")
    operator = planted_deployment.client("olga").post(
        "/api/v1/position/holdings", params={"site": "demo-site"},
        files={"file": ("h.yaml", better.encode(), "application/yaml")},
    )  # fmt: skip
    assert operator.status_code == 403
    saved = alice.post("/api/v1/position/holdings", params={"site": "demo-site"},
                       files={"file": ("h.yaml", better.encode(), "application/yaml")})  # fmt: skip
    assert saved.status_code == 201 and saved.json()["free_allocation_t"] == 11_000
    assert saved.json()["version"] == 2 and saved.json()["trades_added"] == 0
    position = alice.get("/api/v1/position", params={"site": "demo-site", "year": 2024}).json()
    assert position["holdings"]["cea_t"] == pytest.approx(11_500.0)


def test_a_monthly_grant_gets_figures_but_not_hourly_evidence(
    planted_deployment: Deployment,
) -> None:
    """Findings and savings are 'monthly' figures; their hourly / daily series are finer
    and need a grant that also opens 'hourly'."""
    alice = planted_deployment.client("alice")
    window = {"window_from": "2025-01-01T00:00:00Z", "window_to": "2026-01-01T00:00:00Z",
              "expires_at": "2030-01-01T00:00:00Z", "grantee_org": "verify-co"}  # fmt: skip
    made = alice.post("/api/v1/grants", json={"site": "demo-site", "classes": ["monthly"]} | window)
    assert made.status_code == 201, made.text
    vera = planted_deployment.client("vera")
    body = _findings(vera).json()
    assert body["evidence_withheld"] is True
    [found] = body["findings"]
    assert found["annual_kwh"] == pytest.approx(14_600.0)
    assert "evidence" not in found and "flagged_hours" not in found
    savings = vera.get("/api/v1/savings", params={"site": "demo-site", "node": "fan-001",
                                                  "intervention": "2025-07-01",
                                                  "to": "2025-09-01"}).json()  # fmt: skip
    assert savings["fraction"] == pytest.approx(0.30, abs=0.03) and savings["chart"] is None
    alice.delete(f"/api/v1/grants/{made.json()['id']}")
    alice.post("/api/v1/grants", json={"site": "demo-site", "classes": ["monthly", "hourly"]}
               | window)  # fmt: skip
    again = _findings(vera).json()
    assert (
        again["evidence_withheld"] is False and len(again["findings"][0]["evidence"]["kwh"]) == 336
    )


def test_findings_without_a_factor_use_the_shipped_grid_factor(deployment: Deployment) -> None:
    """No `factor` and no TANSUAN_FINDINGS_FACTOR_T_PER_MWH: kWh are valued at the national
    ETS grid factor valid on the window's first day (grid.csv row grid.ets.national.2023,
    0.5703 tCO2/MWh for 2023–2025), and the answer names that row."""
    response = deployment.client("alice").get(
        "/api/v1/findings",
        params={"site": "demo-site", "from": "2025-03-03", "to": "2025-03-17", "tariff": 0.8},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valuation"]["factor_t_per_mwh"] == pytest.approx(0.5703)
    assert body["factor_source"].startswith("grid.ets.national.2023: ")


def test_enpi_api_and_page(deployment: Deployment) -> None:
    """The demo deployment's site has an hour of grid-meter data: the site's EnPI row has
    its month and meter, and no normalised EnPI (too few days), saying why."""
    client = deployment.client("alice")
    window = {"site": "demo-site", "to": str(deployment.now.date() + dt.timedelta(days=1))}
    response = client.get("/api/v1/enpi", params=window)
    assert response.status_code == 200, response.text
    site = response.json()["nodes"][0]
    assert site["kind"] == "site" and site["months"]
    assert site["normalised"] is None and "baseline" in site["note"]
    page = client.get("/insights/enpi", params={"site": "demo-site", "end": window["to"]})
    assert page.status_code == 200
    assert 'id="enpi-table"' in page.text and "demo-site" in page.text
    bad = client.get("/api/v1/enpi", params={"site": "demo-site", "baseline_end": "1999-01-01"})
    assert bad.status_code == 400 and bad.json()["field"] == "baseline_end"


def test_savings_say_whether_the_baseline_can_verify_them(
    planted_deployment: Deployment,
) -> None:
    """The planted counter is flat but for its ±3 % wave: the weekday/weekend baseline has a
    small CV(RMSE) but explains none of the wave (R² ≈ 0 < 0.5), so the API and the page
    say the saving is not verifiable with this model and name the failing criterion."""
    client = planted_deployment.client("alice")
    params = {"site": "demo-site", "node": "fan-001", "intervention": "2025-07-01"}
    body = client.get("/api/v1/savings", params=params).json()
    assert body["baseline"]["r2"] < 0.5 and body["baseline"]["cv_rmse_pct"] < 30
    assert body["verifiable"] is False
    assert [f["criterion"] for f in body["failing"]] == ["R²"]
    assert body["failing"][0]["limit"] == "≥ 0.5"
    assert body["fraction"] == pytest.approx(0.30, abs=0.03)  # still shown
    page = client.get("/insights/savings", params=params)
    assert page.status_code == 200, page.text
    assert 'id="not-verifiable"' in page.text
    assert "此基线模型不足以核证节能量" in page.text and "R²" in page.text
